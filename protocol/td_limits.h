/*  td_limits — every size and depth bound of the protocol, in one place.
 *
 *  Decoders refuse anything beyond these before allocating for it; PROTOCOL.md quotes them.
 */
#ifndef TD_LIMITS_H
#define TD_LIMITS_H

#define TD_PROTOCOL_VERSION   1
#define TD_MAX_MESSAGE        (4 * 1024 * 1024)  //  one encoded message, bytes
#define TD_MAX_DEPTH          32                 //  nesting of maps/arrays, top level = 1
#define TD_MAX_STRING         (1024 * 1024)      //  one str or bin, bytes
#define TD_MAX_CONTAINER      65536              //  entries in one map or array
#define TD_MAX_KEY            256                //  one map key, bytes
#define TD_MAX_ID             128                //  id, rid, event id
#define TD_MAX_NAME           64                 //  service, type, actor names
#define TD_MAX_JSON_BODY      (1024 * 1024)      //  default HTTP body limit

#endif
