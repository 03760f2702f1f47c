"""Realistic smartcampus rosters for the data-standard part of `make
bench`: one primary school (the demo school 2151049901 of the district
the registry is seeded with), classes of 40 in grades 1 to 6, and
students whose every field follows the standard, so that a push of them
is accepted whole: GB 11643 ID numbers of Chengdu districts with their
check digit, birth dates in their grade's year and sex in the ID
number's 17th digit, G 学籍号 equal to the ID number, student numbers
beginning with the entry year, ethnicities as the vendor writes them.

Deterministic: Python's random with a fixed seed, so every run pushes
the same records.

    students(total)       students 0 .. total-1 (the vendor's fields
                          and their class), ID numbers all different
    roster(students, indent=None)
                          a roster of some of them, as the vendor's JSON
                          (bytes; compact, or indented as exports often
                          are)
"""

import json
import random

SEED = 20240903
SCHOOL_CODE = "2151049901"
SEMESTER = "2024-2025-1"
SCHOOL_YEAR = 2024
CLASS_SIZE = 40
GRADES = ("一年级", "二年级", "三年级", "四年级", "五年级", "六年级")
AREAS = ("510104", "510105", "510106", "510107", "510108", "510112")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾" \
           "肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾"
GIVEN = "子涵浩然思雨欣怡梓轩宇航佳琪诗雨一诺雨桐俊杰明轩博文嘉怡若曦晨阳" \
        "可馨天佑宇泽紫萱梦瑶昊然睿哲欣妍书瑶语桐沐辰奕辰铭泽晓彤安琪"
# ethnicity as the vendor writes it, by weight (its code table knows
# every spelling used here)
NATIONS = (("汉族", 90), ("汉", 4), ("藏族", 2), ("彝族", 2), ("回族", 1),
           ("羌族", 1))
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def id_check_digit(body17):
    return ID_CHECK[sum(int(d) * w for d, w in zip(body17, ID_WEIGHTS))
                    % 11]


def _student(rng, n, grade, used):
    """Student number n (from 0) of the school, in grade 1..6; used: the
    ID numbers given so far."""
    entry = SCHOOL_YEAR - grade + 1
    male = rng.random() < 0.52
    while True:
        # born between September of entry-7 and August of entry-6
        month = rng.randint(1, 12)
        year = entry - 7 if month >= 9 else entry - 6
        day = rng.randint(1, 28)
        seq = "%03d" % (rng.randint(0, 499) * 2 + (1 if male else 0))
        body = "%s%04d%02d%02d%s" % (rng.choice(AREAS), year, month, day,
                                     seq)
        if body not in used:
            used.add(body)
            break
    idcard = body + id_check_digit(body)
    name = rng.choice(SURNAMES) + "".join(
        rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    nation = rng.choices([x for x, _ in NATIONS],
                         [w for _, w in NATIONS])[0]
    return {
        "uid": "u_%07d" % (100000 + n),
        "stuNo": "%04d%06d" % (entry, n),
        "realName": name,
        "sex": "M" if male else "F",
        "nation": nation,
        "birthday": "%04d-%02d-%02d" % (year, month, day),
        "idType": "身份证",
        "idCard": idcard,
        "xjh": "G" + idcard,
    }


def class_of(n, size=CLASS_SIZE):
    """(grade 1..6, class number) of student n: classes of `size` fill
    grade 1 to 6 in turn."""
    k = n // size
    return k % len(GRADES) + 1, k // len(GRADES) + 1


def class_id(grade, no):
    return "C%04d%02d" % (SCHOOL_YEAR - grade + 1, no)


def _class(grade, no):
    return {
        "clsId": class_id(grade, no),
        "clsName": "%s(%d)班" % (GRADES[grade - 1], no),
        "gradeName": GRADES[grade - 1],
        "enterYear": str(SCHOOL_YEAR - grade + 1),
        "masterTeacherNo": "T%04d" % (grade * 100 + no),
    }


def students(total):
    """Students 0 .. total-1 of the school, always the same ones."""
    rng = random.Random(SEED)
    used = set()
    out = []
    # a grade has at most 99 classes (two digits): a roster too big for
    # that, which no single school sends, gets bigger classes
    size = max(CLASS_SIZE, -(-total // (len(GRADES) * 99)))
    for n in range(total):
        grade, no = class_of(n, size)
        s = _student(rng, n, grade, used)
        s["clsId"] = class_id(grade, no)
        s["state"] = "在读"
        out.append(s)
    return out


def roster(studs, indent=None):
    """The vendor's roster of these students and of the classes they are
    in (bytes of JSON, as the vendor sends it)."""
    classes = {}
    for s in studs:
        if s["clsId"] not in classes:
            k = s["clsId"]
            grade = SCHOOL_YEAR + 1 - int(k[1:5])
            classes[k] = _class(grade, int(k[5:]))
    doc = {
        "apiVersion": "2.3",
        "tenantCode": "JJQJYJ",
        "pushTime": "2024-09-03 08:15:22",
        "school": {"orgId": "SCH00871", "orgName": "锦江区示例实验小学",
                   "moeCode": SCHOOL_CODE, "areaCode": "510104",
                   "schoolKind": "小学"},
        "semester": SEMESTER,
        "classes": [classes[k] for k in sorted(classes)],
        "students": list(studs),
    }
    return json.dumps(doc, ensure_ascii=False, indent=indent,
                      separators=None if indent else (",", ":")
                      ).encode("utf-8")


if __name__ == "__main__":
    import sys
    sys.stdout.buffer.write(roster(students(int(sys.argv[1])
                                            if len(sys.argv) > 1 else 10)))
