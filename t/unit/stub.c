/*
 * stub.c - what the unit tests link in place of httpd: aapi.h says
 * APLOG_USE_MODULE(auth_api), which refers to the module record that
 * mod_auth_api.c defines. The code under test never logs, so an empty
 * record is enough.
 */
#include "httpd.h"
#include "http_config.h"

module AP_MODULE_DECLARE_DATA auth_api_module;
