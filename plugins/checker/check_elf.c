/*
 * Copyright (C) EduGate contributors
 *
 * What a plugin's shared object exports and needs, read from its ELF
 * dynamic symbol table and dynamic section: a plugin exports exactly
 * edugate_plugin_entry and links no library but the C library (and, in
 * sanitizer builds, the sanitizer runtimes).
 */

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_elf.h"


static const char *check_elf_str(const unsigned char *base, size_t size,
    const Elf64_Shdr *strtab, size_t off);
static int check_elf_lib_allowed(const char *name);


static const char  *check_elf_libs[] = {
    "libc.so.", "ld-linux", "libasan.so.", "libubsan.so.", NULL
};


int
check_elf(const char *path, char *err, size_t errlen)
{
    int                fd, rc;
    size_t             i, k, n, size, exported;
    char               names[256];
    struct stat        st;
    const char        *name;
    const Elf64_Ehdr  *eh;
    const Elf64_Shdr  *sh, *link;
    const Elf64_Sym   *sym;
    const Elf64_Dyn   *dyn;
    unsigned char     *base;

    fd = open(path, O_RDONLY);
    if (fd == -1 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "cannot open \"%s\": %s", path,
                 strerror(errno));
        if (fd != -1) {
            close(fd);
        }
        return -1;
    }

    size = (size_t) st.st_size;

    base = (size >= sizeof(Elf64_Ehdr))
           ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    close(fd);

    if (base == MAP_FAILED) {
        snprintf(err, errlen, "\"%s\" is not an ELF shared object", path);
        return -1;
    }

    rc = -1;
    eh = (const Elf64_Ehdr *) base;

    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0
        || eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_type != ET_DYN
        || eh->e_shentsize != sizeof(Elf64_Shdr)
        || eh->e_shoff > size
        || (size - eh->e_shoff) / sizeof(Elf64_Shdr) < eh->e_shnum)
    {
        snprintf(err, errlen, "\"%s\" is not a 64-bit ELF shared object",
                 path);
        goto done;
    }

    sh = (const Elf64_Shdr *) (base + eh->e_shoff);
    exported = 0;
    names[0] = '\0';

    for (i = 0; i < eh->e_shnum; i++) {

        if ((sh[i].sh_type != SHT_DYNSYM && sh[i].sh_type != SHT_DYNAMIC)
            || sh[i].sh_link >= eh->e_shnum || sh[i].sh_offset > size
            || sh[i].sh_size > size - sh[i].sh_offset)
        {
            continue;
        }

        link = &sh[sh[i].sh_link];

        if (sh[i].sh_type == SHT_DYNSYM) {
            n = sh[i].sh_size / sizeof(Elf64_Sym);
            sym = (const Elf64_Sym *) (base + sh[i].sh_offset);

            for (k = 0; k < n; k++) {
                if (sym[k].st_shndx == SHN_UNDEF
                    || ELF64_ST_BIND(sym[k].st_info) == STB_LOCAL
                    || ELF64_ST_VISIBILITY(sym[k].st_other) != STV_DEFAULT
                    || ELF64_ST_TYPE(sym[k].st_info) == STT_SECTION)
                {
                    continue;
                }

                name = check_elf_str(base, size, link, sym[k].st_name);
                exported++;

                if (strlen(names) + strlen(name) + 3 < sizeof(names)) {
                    if (names[0]) {
                        strcat(names, ", ");
                    }
                    strcat(names, name);
                }
            }

            continue;
        }

        n = sh[i].sh_size / sizeof(Elf64_Dyn);
        dyn = (const Elf64_Dyn *) (base + sh[i].sh_offset);

        for (k = 0; k < n && dyn[k].d_tag != DT_NULL; k++) {
            if (dyn[k].d_tag != DT_NEEDED) {
                continue;
            }

            name = check_elf_str(base, size, link, dyn[k].d_un.d_val);

            if (!check_elf_lib_allowed(name)) {
                snprintf(err, errlen, "links %s: a plugin links no library "
                         "(the host table has what it needs)", name);
                goto done;
            }
        }
    }

    if (exported != 1 || strcmp(names, EDUGATE_ENTRY) != 0) {
        snprintf(err, errlen, "exports %zu symbols (%s): a plugin exports "
                 "only " EDUGATE_ENTRY " (build with -fvisibility=hidden)",
                 exported, names);
        goto done;
    }

    rc = 0;

done:

    munmap(base, size);

    return rc;
}


static const char *
check_elf_str(const unsigned char *base, size_t size,
    const Elf64_Shdr *strtab, size_t off)
{
    const char  *s;

    if (strtab->sh_offset > size || strtab->sh_size > size - strtab->sh_offset
        || off >= strtab->sh_size)
    {
        return "?";
    }

    s = (const char *) base + strtab->sh_offset + off;

    /* the table must hold the end of the name */
    if (memchr(s, '\0', strtab->sh_size - off) == NULL) {
        return "?";
    }

    return s;
}


static int
check_elf_lib_allowed(const char *name)
{
    size_t  i;

    for (i = 0; check_elf_libs[i]; i++) {
        if (strncmp(name, check_elf_libs[i], strlen(check_elf_libs[i]))
            == 0)
        {
            return 1;
        }
    }

    return 0;
}
