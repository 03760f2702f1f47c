/*
 * Copyright (C) EduGate contributors
 *
 * Reads the XML rendering of the data standard (schemas/std/v1) into the
 * JSON shape the rule engine takes: element names are the keys, an
 * element of <item> children is an array, any other element with element
 * children an object, a leaf its text.  A <batch> root gives the batch
 * object; a single record root (<student>, ...) gives a batch holding it.
 */

#ifndef _EG_STD_XML_H_INCLUDED_
#define _EG_STD_XML_H_INCLUDED_

#include <stddef.h>

#include <jansson.h>


/* NULL with a message in err when the document is not well-formed, has a
   DTD, or does not have the shape above */
json_t *eg_std_xml_read(const char *buf, size_t len, char *err,
    size_t errlen);
json_t *eg_std_xml_read_file(const char *path, char *err, size_t errlen);

#endif /* _EG_STD_XML_H_INCLUDED_ */
