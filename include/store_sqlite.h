/* store_sqlite.h - level 3: how a pooled SQLite connection waits for the
 * write lock. No request, no mod_dbd: apr_dbd and SQLite only. */
#ifndef AAPI_STORE_SQLITE_H
#define AAPI_STORE_SQLITE_H

#include "apr_dbd.h"

/* Makes connection HANDLE of DRIVER (sqlite3) wait for a lock held by
 * another connection for up to 10 s without holding apr-util's driver mutex
 * while it sleeps (see store_sqlite.c); where that cannot be done safely, a
 * short SQLite busy timeout bounds the wait instead. Returns 1 when the
 * handler was installed, 0 for the fallback, -1 when HANDLE is not SQLite. */
int aapi_sqlite_wait_setup(const apr_dbd_driver_t *driver, apr_dbd_t *handle);

/* The busy handler's schedule: milliseconds to sleep before try COUNT + 1
 * (COUNT from 0), or 0 once the wait has reached its limit. */
int aapi_sqlite_busy_step(int count);

/* Turns off SQLite's memory statistics (sqlite3_memory_used() then says
 * 0), whose upkeep takes a mutex of the whole process on each of SQLite's
 * allocations; call from pre_config. Returns 1 when done, 0 when SQLite had
 * already started in this process. */
int aapi_sqlite_pre_config(void);

#endif
