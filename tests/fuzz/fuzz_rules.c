/*
 * libFuzzer target for the rule engine: the input is read as a program
 * that builds a batch of records (entity, fields, values), so that the
 * engine sees well-formed records full of near-valid values: ID numbers
 * and 学籍号 with right or wrong check characters over real and abolished
 * division codes, school codes, calendar edges, references to records of
 * the batch and of the registry, provenance notes.  The records run
 * against the real code tables, the report is checked as in fuzz_std.h.
 */


#include "eg_rules.h"
#include "fuzz_std.h"


#define FUZZ_MAX_RECORDS  24
#define FUZZ_MAX_IDS      24


typedef struct {
    const uint8_t  *p;
    size_t          n;
} fuzz_in_t;


static const char  *fuzz_common_fields[] = {
    "id", "status", "dateLastModified", "source", "_prov", "ext", NULL
};

static const char  *fuzz_fields[EG_STD_NENTITIES][24] = {
    /* org, school */
    { "level", "name", "divisionCode", "parentId", "identifier", "uscc",
      "schoolCode", "schoolType", NULL },
    { "level", "name", "divisionCode", "parentId", "identifier", "uscc",
      "schoolCode", "schoolType", "sponsorCategory", "stages",
      "locationCode", "foundedOn", "phone", "postcode", NULL },
    /* academicSession, course, class */
    { "title", "type", "startDate", "endDate", "parentId", "orgId",
      "schoolYear", "termCode", NULL },
    { "title", "courseCode", "orgId", "schoolYearId", "subjectCode",
      "courseLevel", "gradeLevels", NULL },
    { "title", "classNo", "schoolId", "courseId", "termIds", "gradeLevel",
      "classType", "stage", "cohortYear", "schoolingLength",
      "headTeacherId", "classKind", NULL },
    /* student, staff */
    { "name", "namePinyin", "sex", "birthDate", "birthplace", "idType",
      "idNumber", "ethnicity", "nationality", "hkmtoCode", "studentRegNo",
      "studentNo", "schoolId", "homeroomClassId", "gradeLevel",
      "enrolmentStatus", "entryDate", "phone", "politicalStatus",
      "healthStatus", "householdType", "studentCategory", NULL },
    { "name", "sex", "birthDate", "birthplace", "idType", "idNumber",
      "ethnicity", "nationality", "staffNo", "schoolId", "orgId",
      "education", "mainStage", "subjects", "phone", "role", "post",
      "politicalStatus", "staffCategory", NULL },
    /* enrollment, schoolEnrollment */
    { "classId", "personId", "schoolId", "role", "primary", "beginDate",
      "endDate", NULL },
    { "personId", "schoolId", "role", "changeType", "beginDate", "endDate",
      NULL },
    /* lineItem, result */
    { "title", "classId", "courseId", "termId", "subjectCode",
      "assignDate", "dueDate", "resultValueMin", "resultValueMax",
      "scoreScale", "examCategory", "examMethod", NULL },
    { "lineItemId", "studentId", "score", "textScore", "scoreStatus",
      "examStatus", "scoreDate", "comment", NULL }
};

/* codes of the tables, enum values, and the edges of the rules */
static const char  *fuzz_words[] = {
    "national", "province", "city", "district", "school", "campus",
    "department", "active", "tobedeleted", "student", "teacher",
    "schoolYear", "term", "bulk", "delta", "1", "2", "9", "01", "02", "97",
    "CHN", "USA", "HKG", "00", "10", "11", "21", "211", "312", "411",
    "421", "K1", "PK", "KG", "12", "13", "2024-2025", "2025-2024",
    "1999-02-29", "2000-02-29", "2024-02-29", "2025-01-10", "2025-01-11",
    "1900-01-01", "2024-09-01", "2025-08-31", "0000-00-00",
    "2024-09-03T08:15:22+08:00", "2030-01-01T00:00:00Z", "NaN", "-1",
    "100", "100.5", "1e308", "510102", "510104", "510112", "510100",
    "510000", "100000", "419001", "441900", "110103", "999999", "000000",
    "110101", "659001", "王", "李思雨", "Li Siyu", "王·小明",
    "王 小明",
    "13800138000", "+86 138 0013 8000", "028-8888 8888",
    "91510104MA61XXXX0X", "4111010001", "4251000001", "2151049901",
    "G510104201001011234", "L51010420100101123", "", " ", NULL
};

static const char  *fuzz_areas[] = {
    "510104", "510102", "110103", "419001", "999999", "110101", "441900",
    "810000", "830000", "100000"
};

static const char  *fuzz_mappings[] = {
    "exact", "synonym", "name", "zeropad", "ambiguous", "normalised",
    "crosswalk", "natural-key", "unresolved", "other"
};


static const char  *fuzz_ids[FUZZ_MAX_IDS];
static size_t       fuzz_nids;


static unsigned
fuzz_byte(fuzz_in_t *in)
{
    unsigned  b;

    if (in->n == 0) {
        return 0;
    }

    b = *in->p++;
    in->n--;

    return b;
}


static size_t
fuzz_count(const char **list)
{
    size_t  n;

    for (n = 0; list[n]; n++) {
        /* void */
    }

    return n;
}


static void
fuzz_digits(fuzz_in_t *in, char *out, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        out[i] = '0' + fuzz_byte(in) % 10;
    }

    out[n] = '\0';
}


static void
fuzz_date(fuzz_in_t *in, char *out, int compact)
{
    int  y, m, d;

    y = 1890 + fuzz_byte(in) % 150;
    m = fuzz_byte(in) % 14;
    d = fuzz_byte(in) % 33;

    sprintf(out, compact ? "%04d%02d%02d" : "%04d-%02d-%02d", y, m, d);
}


/* 18 characters: an area, a birth date, a sequence, the check char */

static void
fuzz_id_number(fuzz_in_t *in, char *out)
{
    char      check;
    unsigned  b;

    b = fuzz_byte(in);
    memcpy(out, fuzz_areas[b % 10], 6);
    fuzz_date(in, out + 6, 1);
    fuzz_digits(in, out + 14, 3);

    check = eg_id_check_char(out);
    out[17] = (b & 0x80) ? "0123456789X"[fuzz_byte(in) % 11] : check;
    out[18] = '\0';
}


static json_t *
fuzz_value(fuzz_in_t *in, const char *field)
{
    char      buf[64];
    size_t    n, i;
    json_t   *v;
    unsigned  kind;

    kind = fuzz_byte(in) % 14;

    switch (kind) {

    case 0:
        return json_string(fuzz_words[fuzz_byte(in)
                                      % fuzz_count(fuzz_words)]);

    case 1:
        n = fuzz_byte(in) % 24;
        n = n < in->n ? n : in->n;
        v = json_stringn((const char *) in->p, n);
        in->p += n;
        in->n -= n;
        return v ? v : json_string("");

    case 2:
        fuzz_digits(in, buf, fuzz_byte(in) % 20);
        return json_string(buf);

    case 3:
        fuzz_id_number(in, buf);
        if (fuzz_byte(in) & 1) {
            /* the 15-digit form: no century, no check character */
            memmove(buf + 6, buf + 8, 9);
            buf[15] = '\0';
        }
        return json_string(buf);

    case 4:
        buf[0] = "GJLgX"[fuzz_byte(in) % 5];
        fuzz_id_number(in, buf + 1);
        if (buf[0] == 'L') {
            fuzz_digits(in, buf + 15, 4);
        }
        return json_string(buf);

    case 5:
        fuzz_date(in, buf, 0);
        return json_string(buf);

    case 6:
        /* 学校标识码: category, province, sequence (digit 5: 41/42) */
        memcpy(buf, &"11213141425191"[2 * (fuzz_byte(in) % 7)], 2);
        memcpy(buf + 2, fuzz_areas[fuzz_byte(in) % 10], 2);
        fuzz_digits(in, buf + 4, 6);
        return json_string(buf);

    case 7:
        return json_string(fuzz_nids ? fuzz_ids[fuzz_byte(in) % fuzz_nids]
                                     : "");

    case 8:
        v = json_array();
        n = fuzz_byte(in) % 4;
        for (i = 0; i < n; i++) {
            json_array_append_new(v, fuzz_value(in, field));
        }
        return v;

    case 9:
        return json_integer((json_int_t) (int8_t) fuzz_byte(in) * 7);

    case 10:
        return json_real((double) fuzz_byte(in) / 3.0 - 10.0);

    case 11:
        return (fuzz_byte(in) & 1) ? json_true() : json_null();

    case 12:
        v = json_object();
        json_object_set_new(v, fuzz_words[fuzz_byte(in)
                                          % fuzz_count(fuzz_words)],
                            fuzz_value(in, field));
        return v;

    default:
        snprintf(buf, sizeof(buf), "%s%u", field, fuzz_byte(in) % 4);
        return json_string(buf);
    }
}


/* _prov: {field: {raw, mapping}} for one field of the record */

static json_t *
fuzz_prov(fuzz_in_t *in, const char *field)
{
    json_t  *prov, *note;

    prov = json_object();
    note = json_object();

    json_object_set_new(note, "raw", fuzz_value(in, field));
    json_object_set_new(note, "mapping",
                        json_string(fuzz_mappings[fuzz_byte(in) % 10]));
    json_object_set_new(prov, field, note);

    return prov;
}


static json_t *
fuzz_record(fuzz_in_t *in, eg_std_entity_e entity)
{
    size_t       nfields, ncommon, i, k;
    json_t      *rec;
    const char  *field, **own;

    rec = json_object();
    own = fuzz_fields[entity];
    ncommon = fuzz_count(fuzz_common_fields);
    nfields = fuzz_byte(in) % 20;

    if (fuzz_nids) {
        json_object_set_new(rec, "id",
                            json_string(fuzz_ids[fuzz_byte(in) % fuzz_nids]));
    }

    for (i = 0; i < nfields && in->n; i++) {
        k = fuzz_byte(in) % (fuzz_count(own) + ncommon);
        field = k < ncommon ? fuzz_common_fields[k] : own[k - ncommon];

        if (strcmp(field, "_prov") == 0) {
            json_object_set_new(rec, field,
                                fuzz_prov(in, own[fuzz_byte(in)
                                                  % fuzz_count(own)]));
            continue;
        }

        json_object_set_new(rec, field, fuzz_value(in, field));
    }

    return rec;
}


/* the ids of the registry, so that references resolve there too */

static void
fuzz_collect_ids(void)
{
    size_t       i;
    json_t      *list, *rec;
    const char  *key, *id;

    json_object_foreach(fuzz_known, key, list) {
        json_array_foreach(list, i, rec) {
            id = json_string_value(json_object_get(rec, "id"));
            if (id != NULL && fuzz_nids < FUZZ_MAX_IDS - 4) {
                fuzz_ids[fuzz_nids++] = id;
            }
        }
    }

    fuzz_ids[fuzz_nids++] = "00000000-0000-5000-8000-000000000001";
    fuzz_ids[fuzz_nids++] = "00000000-0000-5000-8000-000000000002";
    fuzz_ids[fuzz_nids++] = "not-a-uuid";
    fuzz_ids[fuzz_nids++] = "";
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;

    fuzz_std_init();
    fuzz_collect_ids();

    return 0;
}


/* records of every entity from the input, in a batch-shaped object */

static json_t *
fuzz_batch(fuzz_in_t *in, size_t max)
{
    size_t           n;
    json_t          *batch, *list;
    eg_std_entity_e  entity;

    batch = json_object();

    for (n = 0; n < max && in->n; n++) {
        entity = fuzz_byte(in) % EG_STD_NENTITIES;

        list = json_object_get(batch, eg_std_entity_collection(entity));
        if (list == NULL) {
            list = json_array();
            json_object_set_new(batch, eg_std_entity_collection(entity),
                                list);
        }

        json_array_append_new(list, fuzz_record(in, entity));
    }

    return batch;
}


/*
 * The first byte: feed (bit 0), a validation day from the input (bit 1),
 * known records from the input instead of registry-b.xml (bit 2), the
 * month the school year starts (the rest).
 */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char       today[16];
    json_t    *batch, *known;
    unsigned   flags;
    fuzz_in_t  in;

    in.p = data;
    in.n = size;

    flags = fuzz_byte(&in);
    fuzz_date(&in, today, 0);

    known = (flags & 4) ? fuzz_batch(&in, fuzz_byte(&in) % 8) : NULL;

    batch = fuzz_batch(&in, FUZZ_MAX_RECORDS);
    json_object_set_new(batch, "feed",
                        json_string((flags & 1) ? "delta" : "bulk"));

    fuzz_std_validate(batch, known, (flags & 2) ? today : "2025-01-10",
                      1 + (flags >> 3) % 12);

    json_decref(batch);
    json_decref(known);

    return 0;
}
