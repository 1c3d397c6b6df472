/*  td_identity_password — passwords as argon2id strings (libsodium crypto_pwhash_str).
 *
 *  The cost is TUTORD_ARGON2_OPSLIMIT passes over TUTORD_ARGON2_MEMLIMIT_KIB KiB (default
 *  libsodium's INTERACTIVE: 2 passes, 64 MiB). The string embeds its own parameters, so verifying
 *  an old hash still works after the cost is changed. One hash blocks the actor's thread for
 *  its duration (tens of milliseconds at the default), far below the 3 s heartbeat liveness.
 *  Passwords are never logged or returned; buffers holding them are wiped by the callers.
 */
#include <string.h>
#include "td_identity.h"

int
id_password_hash (const td_config_t *cfg, const char *password, char out [crypto_pwhash_STRBYTES])
{
    unsigned long long ops = cfg->argon2_opslimit > 0? (unsigned long long) cfg->argon2_opslimit
                                                      : crypto_pwhash_OPSLIMIT_INTERACTIVE;
    size_t mem = cfg->argon2_memlimit_kib > 0? (size_t) cfg->argon2_memlimit_kib * 1024
                                             : crypto_pwhash_MEMLIMIT_INTERACTIVE;
    if (ops < crypto_pwhash_OPSLIMIT_MIN)
        ops = crypto_pwhash_OPSLIMIT_MIN;
    if (mem < crypto_pwhash_MEMLIMIT_MIN)
        mem = crypto_pwhash_MEMLIMIT_MIN;
    return crypto_pwhash_str (out, password, strlen (password), ops, mem) == 0? 0: -1;
}

bool
id_password_verify (const char *hash, const char *password)
{
    if (!hash || !*hash)
        return false;
    return crypto_pwhash_str_verify (hash, password, strlen (password)) == 0;
}
