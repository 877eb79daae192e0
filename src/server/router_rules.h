/* The header rules of the route table (router_rules.c): headers that
 * change what a request means, refused until the sink implements them, or
 * that select a row. Private to router.c and router_rules.c. */
#ifndef VS_SERVER_ROUTER_RULES_H
#define VS_SERVER_ROUTER_RULES_H

enum match {
  M_PRESENT, /* refused whenever present */
  M_PREFIX,  /* refused when the value starts with arg */
  M_TOKEN,   /* refused when the comma-separated value lists arg */
  M_NOT_IN,  /* refused unless the value is one of arg ("a|b") */
  M_ABSENT   /* refused when absent: the header selects the row */
};

typedef struct header_rule {
  const char *name;   /* NULL ends a group */
  enum match when;
  const char *arg;
  int early;          /* refused before authentication (router.c's top) */
  const char *why;    /* follows "<name>: " in the answer; never the value */
} header_rule;

/* The rule sets a route row names. */
enum { H_NONE, H_PUT, H_CREATE_BUCKET, H_COPY, H_DELETE, H_MPU_CREATE,
       H_PART, H_PART_COPY, H_COMPLETE, H_ABORT, H_COUNT };

/* The set's groups of rules, NULL-terminated; each group ends with a rule
 * whose name is NULL. */
const header_rule *const *vs__rule_set(int set);

#endif
