/*
 * Copyright (C) EduGate contributors
 */

#ifndef _CHECK_ELF_H_INCLUDED_
#define _CHECK_ELF_H_INCLUDED_

#include <stddef.h>


#define EDUGATE_ENTRY  "edugate_plugin_entry"


/* 0 if the object exports only the entry and links only libc, else -1 */
int check_elf(const char *path, char *err, size_t errlen);

#endif /* _CHECK_ELF_H_INCLUDED_ */
