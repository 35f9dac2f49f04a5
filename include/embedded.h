/* embedded.h - data compiled into the module by tools/embed.pl. */
#ifndef AAPI_EMBEDDED_H
#define AAPI_EMBEDDED_H

#include <stddef.h>

typedef struct {
    int version;              /* 0 ends the list */
    const char *name;         /* file name, for the log */
    const char *sql;          /* statements separated by lines ending in ; */
} aapi_migration_t;

/* The common-password list, lower case, NULL-terminated. */
extern const char *const aapi_common_passwords[];

/* The migrations of each SQL dialect, ascending, ended by version 0. */
extern const aapi_migration_t aapi_migrations_sqlite3[];
extern const aapi_migration_t aapi_migrations_mysql[];

#endif
