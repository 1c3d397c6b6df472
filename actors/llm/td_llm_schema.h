/*  td_llm_schema — checks a model's structured answer against a JSON Schema before it is stored.
 *
 *  A model's JSON is hostile input: it must be exactly the shape the schema file describes
 *  (prompts/analysis.schema.json) or it is refused. This is a small subset of JSON Schema, enough
 *  for such files and checked strictly: "type" (object, array, string, boolean, integer, number,
 *  null, or a list of them), "properties", "required", "additionalProperties": false, "items",
 *  "enum" (strings), "minLength"/"maxLength" (characters), "minItems"/"maxItems",
 *  "minimum"/"maximum". Any other keyword in the schema makes td_llm_schema_check_schema fail, so
 *  a schema never silently promises more than is checked.
 */
#ifndef TD_LLM_SCHEMA_H
#define TD_LLM_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

//  0 when the schema uses only the supported keywords; else -1 with why set.
int td_llm_schema_check_schema (const json_t *schema, char *why, size_t whylen);
//  0 when value conforms to schema; else -1 with why naming the first failing path.
int td_llm_schema_validate (const json_t *schema, const json_t *value, char *why, size_t whylen);

#endif
