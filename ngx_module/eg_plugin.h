/*
 * Copyright (C) EduGate contributors
 *
 * Loading a vendor adapter plugin, nginx-free so that the gateway and
 * edugate-plugin-check load a plugin the same way, with the same checks
 * and the same messages.
 */

#ifndef _EG_PLUGIN_H_INCLUDED_
#define _EG_PLUGIN_H_INCLUDED_

#include <stddef.h>

#include "edugate_plugin.h"


#define EG_PLUGIN_NAME_MAX   32
#define EG_PLUGIN_ERR_MAX    512


typedef struct eg_plugin_s   eg_plugin_t;
typedef struct eg_codemap_s  eg_codemap_t;
typedef struct eg_mem_s      eg_mem_t;

/* a block of host memory; the caller's bytes follow it */
struct eg_mem_s {
    eg_mem_t                *next;
};


/* the table a plugin sees, followed by what the host functions need */
typedef struct {
    edugate_host_t           pub;
    eg_plugin_t             *plugin;
} eg_host_t;


struct eg_plugin_s {
    char                     name[EG_PLUGIN_NAME_MAX + 1];  /* instance */
    char                    *path;
    void                    *dl;
    const edugate_plugin_t  *desc;
    void                    *state;
    eg_host_t                host;
    edugate_description_t    about;
    eg_codemap_t            *codes;
    eg_mem_t                *state_mem;
    unsigned                 in_init:1;
    unsigned                 initialized:1;
};


/*
 * Opens, checks and initialises a plugin; name is the instance name of the
 * configuration, pin a hex SHA-256 of the file or NULL.  On failure
 * returns NULL with the reason in err.
 */
eg_plugin_t *eg_plugin_open(const char *name, const char *path,
    const char *pin, int argc, const char *const *argv, char *err,
    size_t errlen);
void eg_plugin_close(eg_plugin_t *p);

/* the checks of eg_plugin_open(), one by one (0, or -1 and err) */
int eg_plugin_name_valid(const char *name, size_t len);
int eg_plugin_trusted(const char *path, char *err, size_t errlen);
int eg_plugin_pin_matches(const char *path, const char *pin, char *err,
    size_t errlen);
int eg_plugin_check_desc(const edugate_plugin_t *d, char *err,
    size_t errlen);
int eg_plugin_check_about(const edugate_description_t *about, char *err,
    size_t errlen);

/* the default code table file: "x.so" -> "x.csv" (malloc()ed) */
char *eg_plugin_table_path(const char *so_path);

/*
 * Code tables: the rows of the default file (it may be missing when the
 * plugin names no table), an override of one table, and the final check
 * that every named table has rows.
 */
int eg_plugin_load_tables(eg_plugin_t *p, const char *csv, char *err,
    size_t errlen);
int eg_plugin_override_table(eg_plugin_t *p, const char *table,
    const char *csv, char *err, size_t errlen);
int eg_plugin_tables_ready(eg_plugin_t *p, char *err, size_t errlen);

int eg_plugin_listed(const char *const *list, const char *name);

#endif /* _EG_PLUGIN_H_INCLUDED_ */
