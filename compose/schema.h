/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Validation of a YAML node tree against a JSON Schema, with errors that name the file, line and
 * column of the offending node and its path in the document. This file owns loading schemas and
 * checking trees; what a valid file means (names that must exist, port syntax, durations) is
 * checked later, on the typed model. Internal to compose/ (the public header is compose.h).
 *
 * Loading is done once (it parses the JSON and compiles every pattern); a loaded schema is read
 * only and can validate any number of trees. Nothing here blocks or touches files.
 *
 * The schema language is a subset of JSON Schema draft 2020-12 (draft-07's "definitions" also
 * works): type, enum, const, properties, patternProperties, additionalProperties (boolean or
 * schema), propertyNames, required, minProperties, maxProperties, items (one schema for every
 * item), minItems, maxItems, uniqueItems, minimum, maximum, exclusiveMinimum, exclusiveMaximum
 * (numbers), minLength, maxLength, pattern, oneOf, anyOf, allOf, not, $ref (JSON pointers into
 * the same document, "#" or "#/..."), $defs and definitions, and true/false schemas. Annotations
 * ($schema, $id, $comment, title, description, default, deprecated, examples) are ignored. Any
 * other keyword, "format" included, makes loading fail: a schema must not ask for a check that
 * silently does not happen. (schemas/compose.schema.json uses no format: durations, port specs
 * and subnets, which some compose-go versions check as formats, are checked on the typed model.)
 * Patterns are the RE2/ECMA subset of schema-int.h, matched anywhere in the string unless
 * anchored, as Go's regexp does.
 *
 * Scalars take the JSON type of their YAML 1.2 resolution (compose_scalar_type): a plain 8080 is
 * an integer (which is also a number), a quoted "8080" a string, plain true a boolean, a float
 * with no fraction (1.0) an integer as JSON Schema says; mapping keys are always strings.
 * Nodes shared through aliases are checked at every place they appear.
 */
#pragma once

#include <stddef.h>

#include "compose/node.h"
#include "engine/base/err.h"

struct compose_schema;

/*
 * Load a schema from JSON text (len bytes; NUL not needed). name names it in errors, which are
 * errors in the schema itself: bad JSON, an unsupported keyword, a bad pattern, a $ref that does
 * not resolve. On success *ret_schema is a new schema, free it with compose_schema_free().
 */
int compose_schema_load(const char *name, const char *json, size_t len,
                        struct compose_schema **ret_schema, struct bt_err **err);
/* Load the Compose file schema built into berth (schemas/compose.schema.json). */
int compose_schema_load_compose(struct compose_schema **ret_schema, struct bt_err **err);
/* Accepts NULL; returns NULL. */
struct compose_schema *compose_schema_free(struct compose_schema *s);

/*
 * Check the tree root (one document; NULL stands for an empty one) against the schema. Returns 0
 * when it is valid; else -BT_EINVALID and one error: the first problem in document order, and
 * for oneOf/anyOf the alternative that came closest (the one whose type fits, or which failed
 * deepest). The message starts with the path: "compose.yaml:12:9: services.web.ports[2]: must
 * be a number, a string or a mapping, got a sequence", "compose.yaml:4:5: services.web: unknown
 * key 'imagee' (did you mean 'image'?)"; a hint may follow. Recursion is bounded: a tree or a
 * schema that nests deeper than COMPOSE_SCHEMA_MAX_LEVEL is refused with an error.
 */
int compose_schema_validate(const struct compose_schema *s, const struct compose_node *root,
                            struct bt_err **err);

#define COMPOSE_SCHEMA_MAX_LEVEL 512 /* nested schema applications during one validation */
