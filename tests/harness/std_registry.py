"""The district's master data in the gateway's registry (README, State in
Redis), shared by the demo and the tests: the org tree above the demo
school, its calendar and its grade courses, written in the documented key
format, with ids computed by Python's own uuid.uuid5 under the demo
namespace (the same derivation the gateway documents).

    DEMO_NS, DEMO_STD_SECRET      published demo values, never reuse them
    uid(name)                      UUIDv5 of a natural-key name
    seed(client, coll, rec, keys)  one known record
    seed_district(client)          province, city, district, calendar,
                                   grade courses
    seed_exam_world(client, ...)   the school, its 三年级语文 course, students
    clear(client)                  every eg:std:* key
"""

import json
import uuid

DEMO_NS = uuid.UUID("bbb642f3-9b1c-4e0a-8f3d-5a7e2c6d1f40")
DEMO_STD_SECRET = "district-hmac-demo-secret-0123"


def uid(name):
    return str(uuid.uuid5(DEMO_NS, name))


SCHOOL = uid("org|school|2151049901")
DISTRICT = uid("org|district|510104")
CITY = uid("org|city|510100")
PROVINCE = uid("org|province|510000")
YEAR = uid("session|%s|2024-2025|Y" % SCHOOL)
TERM = uid("session|%s|2024-2025|1" % SCHOOL)
COURSE_YW3 = uid("course|%s|grade|03|13" % SCHOOL)
HOMEROOM3 = uid("course|%s|grade|03|homeroom" % SCHOOL)

INDEXED = ("studentRegNo", "studentNo", "schoolId", "personId", "classId",
           "lineItemId", "parentId")


def seed(client, coll, rec, keys=()):
    """A record the registry knows, as a push stores it, and the natural
    keys it answers to."""
    client.set("eg:std:rec:%s:%s" % (coll, rec["id"]), json.dumps(rec))
    for k in keys:
        client.set("eg:std:nk:" + k, rec["id"])
    for field in INDEXED:
        if isinstance(rec.get(field), str):
            client.sadd("eg:std:idx:%s:%s:%s" % (coll, field, rec[field]),
                        rec["id"])


def seed_district(client):
    """The org tree above the school and the school's calendar."""
    seed(client, "orgs", {"id": PROVINCE, "status": "active",
                          "level": "province", "name": "四川省教育厅",
                          "divisionCode": "510000"})
    seed(client, "orgs", {"id": CITY, "status": "active", "level": "city",
                          "name": "成都市教育局", "divisionCode": "510100",
                          "parentId": PROVINCE})
    seed(client, "orgs", {"id": DISTRICT, "status": "active",
                          "level": "district", "name": "成都市锦江区教育局",
                          "divisionCode": "510104", "parentId": CITY},
         keys=["org|district|510104"])
    seed(client, "academicSessions", {
        "id": YEAR, "status": "active", "type": "schoolYear",
        "schoolYear": "2024-2025", "title": "2024-2025学年",
        "startDate": "2024-09-01", "endDate": "2025-08-31",
        "orgId": SCHOOL})
    seed(client, "academicSessions", {
        "id": TERM, "status": "active", "type": "semester",
        "schoolYear": "2024-2025", "termCode": "1",
        "title": "2024-2025学年第一学期", "startDate": "2024-09-01",
        "endDate": "2025-01-19", "parentId": YEAR, "orgId": SCHOOL})
    seed(client, "courses", {"id": COURSE_YW3, "status": "active",
                             "title": "三年级语文", "subjectCode": "13",
                             "gradeLevels": ["03"], "orgId": SCHOOL})
    # the synthetic course of grade 3's homeroom classes (the subject as
    # in the standard's example: 60 综合实践活动)
    seed(client, "courses", {"id": HOMEROOM3, "status": "active",
                             "title": "三年级班级", "subjectCode": "60",
                             "gradeLevels": ["03"], "orgId": SCHOOL})


def seed_exam_world(client,
                    l_student="55065013-546c-485f-8c37-daf5bf973096"):
    """What 5.2 assumes is known: the school and the students registered
    earlier; with l_student, 阿依古丽 under the identity registered
    before the rejected roster of 5.1."""
    seed(client, "orgs", {"id": SCHOOL, "status": "active",
                          "level": "school", "name": "锦江区示例实验小学",
                          "schoolCode": "2151049901",
                          "divisionCode": "510104", "schoolType": "211",
                          "stages": ["2"], "parentId": DISTRICT},
         keys=["org|school|2151049901"])
    seed(client, "students", {"id": uid("student|G510104201605120323"),
                              "status": "active",
                              "studentRegNo": "G510104201605120323",
                              "schoolId": SCHOOL, "gradeLevel": "03",
                              "enrolmentStatus": "01"},
         keys=["student|G510104201605120323"])
    if l_student:
        seed(client, "students", {"id": l_student, "status": "active",
                                  "studentRegNo": "L510104201603067394",
                                  "schoolId": SCHOOL, "gradeLevel": "03",
                                  "enrolmentStatus": "01"},
             keys=["student|L510104201603067394"])


def clear(client):
    for key in client.scan_iter("eg:std:*"):
        client.delete(key)
