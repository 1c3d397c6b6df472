/*  td_llm_schema — the JSON Schema subset that a model's structured answer is checked against
 *  (td_llm_schema.h). Recursive over schema and value together; depth is bounded by the schema,
 *  which is ours (a file under prompts/), never the model's.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "td_llm_schema.h"
#include "td_llm.h"

static const char *s_keywords [] = { "type", "properties", "required", "additionalProperties",
    "items", "enum", "minLength", "maxLength", "minItems", "maxItems", "minimum", "maximum",
    "description", "title", "$schema", "$id", NULL };

static bool
s_type_is (const char *type, const json_t *v)
{
    if (strcmp (type, "object") == 0)   return json_is_object (v);
    if (strcmp (type, "array") == 0)    return json_is_array (v);
    if (strcmp (type, "string") == 0)   return json_is_string (v);
    if (strcmp (type, "boolean") == 0)  return json_is_boolean (v);
    if (strcmp (type, "integer") == 0)  return json_is_integer (v);
    if (strcmp (type, "number") == 0)   return json_is_number (v);
    if (strcmp (type, "null") == 0)     return json_is_null (v);
    return false;
}

int
td_llm_schema_check_schema (const json_t *schema, char *why, size_t whylen)
{
    if (!json_is_object (schema)) {
        snprintf (why, whylen, "a schema must be an object");
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *) schema, key, v) {
        bool known = false;
        for (int i = 0; s_keywords [i]; i++)
            known = known || strcmp (key, s_keywords [i]) == 0;
        if (!known) {
            snprintf (why, whylen, "unsupported schema keyword '%s'", key);
            return -1;
        }
    }
    json_t *ap = json_object_get (schema, "additionalProperties");
    if (ap && !json_is_false (ap) && !json_is_true (ap)) {
        snprintf (why, whylen, "additionalProperties must be true or false");
        return -1;
    }
    json_t *items = json_object_get (schema, "items");
    if (items && td_llm_schema_check_schema (items, why, whylen) != 0)
        return -1;
    json_object_foreach (json_object_get (schema, "properties"), key, v)
        if (td_llm_schema_check_schema (v, why, whylen) != 0)
            return -1;
    return 0;
}

static int
s_fail (char *why, size_t whylen, const char *path, const char *what)
{
    snprintf (why, whylen, "%s: %s", *path? path: "(top)", what);
    return -1;
}

static int
s_validate (const json_t *sc, const json_t *v, char *path, size_t pathlen, char *why, size_t whylen)
{
    json_t *type = json_object_get (sc, "type");
    if (json_is_string (type) && !s_type_is (json_string_value (type), v))
        return s_fail (why, whylen, path, "has the wrong type");
    if (json_is_array (type)) {
        bool any = false;
        size_t i;
        json_t *t;
        json_array_foreach (type, i, t)
            any = any || (json_is_string (t) && s_type_is (json_string_value (t), v));
        if (!any)
            return s_fail (why, whylen, path, "has the wrong type");
    }
    json_t *en = json_object_get (sc, "enum");
    if (json_is_array (en)) {
        bool any = false;
        size_t i;
        json_t *e;
        json_array_foreach (en, i, e)
            any = any || json_equal (e, (json_t *) v);
        if (!any)
            return s_fail (why, whylen, path, "is not one of the allowed values");
    }
    if (json_is_string (v)) {
        size_t n = td_llm_utf8_chars (json_string_value (v), json_string_length (v));
        json_t *mn = json_object_get (sc, "minLength"), *mx = json_object_get (sc, "maxLength");
        if (strlen (json_string_value (v)) != json_string_length (v))
            return s_fail (why, whylen, path, "holds a NUL character");
        if ((mn && n < (size_t) json_integer_value (mn)) || (mx && n > (size_t) json_integer_value (mx)))
            return s_fail (why, whylen, path, "has the wrong length");
    }
    if (json_is_number (v)) {
        double d = json_number_value (v);
        json_t *mn = json_object_get (sc, "minimum"), *mx = json_object_get (sc, "maximum");
        if (!isfinite (d) || (mn && d < json_number_value (mn)) || (mx && d > json_number_value (mx)))
            return s_fail (why, whylen, path, "is out of range");
    }
    size_t plen = strlen (path);
    if (json_is_array (v)) {
        json_t *mn = json_object_get (sc, "minItems"), *mx = json_object_get (sc, "maxItems");
        size_t n = json_array_size (v);
        if ((mn && n < (size_t) json_integer_value (mn)) || (mx && n > (size_t) json_integer_value (mx)))
            return s_fail (why, whylen, path, "has the wrong number of items");
        json_t *items = json_object_get (sc, "items");
        size_t i;
        json_t *e;
        json_array_foreach (v, i, e) {
            if (!items)
                break;
            snprintf (path + plen, pathlen - plen, "[%zu]", i);
            int rc = s_validate (items, e, path, pathlen, why, whylen);
            path [plen] = 0;
            if (rc)
                return rc;
        }
    }
    if (json_is_object (v)) {
        json_t *props = json_object_get (sc, "properties");
        size_t i;
        json_t *r;
        json_array_foreach (json_object_get (sc, "required"), i, r)
            if (json_is_string (r) && !json_object_get (v, json_string_value (r))) {
                snprintf (path + plen, pathlen - plen, "%s%s", plen? ".": "", json_string_value (r));
                int rc = s_fail (why, whylen, path, "is missing");
                path [plen] = 0;
                return rc;
            }
        const char *key;
        json_t *e;
        json_object_foreach ((json_t *) v, key, e) {
            json_t *sub = json_object_get (props, key);
            snprintf (path + plen, pathlen - plen, "%s%s", plen? ".": "", key);
            int rc = 0;
            if (sub)
                rc = s_validate (sub, e, path, pathlen, why, whylen);
            else
            if (json_is_false (json_object_get (sc, "additionalProperties")))
                rc = s_fail (why, whylen, path, "is not allowed");
            path [plen] = 0;
            if (rc)
                return rc;
        }
    }
    return 0;
}

int
td_llm_schema_validate (const json_t *schema, const json_t *value, char *why, size_t whylen)
{
    char path [256] = "";
    return s_validate (schema, value, path, sizeof path, why, whylen);
}
