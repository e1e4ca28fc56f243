"""Scenario folders from an outside check (outside17), written as CSV files for the real reader.

- ``write_rp_nobody_leads(folder)``: the tiny example plus a relapse-prevention group RP whose skill
  ``sud`` no staff member holds, required by P02 only. It was refused as bad input (exit 1) even with
  ``--best-effort``; it is a scheduling conflict (H5): strict solve infeasible naming RP, 'sud' and P02;
  best effort schedules the other five and waitlists P02 with that reason.
- ``write_eval_over_daily_cap(folder, t1_cap)``: a 125-min assessment EVAL needing both therapists T1
  and T2; T1's max_hours_day is ``t1_cap`` hours. At 2 the pre-solve check said (H3) that T1 and T2
  are "never free at the same time", though they are free together Tue 10:00-13:00 and Sat
  08:00-12:05; the cause is T1's daily cap (H8). At 3 neither finding may appear.

From outside18 (a randomised check with its own checker):

- ``write_co_led_primary(folder)``: two patients; P0's A2I is an individual session led by the primary
  therapist and one helper (staff_count 2). Best effort waitlisted P3 in 3 of 25 runs: the template's
  complete week could not be given to the whole-week model as a hint (the primary therapist was
  hinted as a helper too), the search was stopped at the rounds' share with P3 still out, and the
  rounds could not re-solve the week from it either. Optimal: 3.
- ``write_case(folder, ZERO_DAYS_FILES)``: two patients; P1 has min_days = max_days = 0 (and no requirements): their only week is empty. Strict solves said
  "No timetable holds every patient." with no reason, best effort waitlisted P1, and the template raised
  ZeroDivisionError (logged) for any patient with min_days 0. Optimal: 1 (P0's one group).
- ``write_case(folder, FAMILY_DAY_FILES)``: P0 must attend 2 days, is available Mon 09:00-10:00 only, and needs an in-block family session
  (FAM, family Tue 09:00-10:00): Tuesday is an attended day through it. The pre-solve check said P0 could
  attend one day only (infeasible, exit 2). Optimal: 2.
- ``write_case(folder, FAMILY_CHAIN_FILES)``: six patients; P0 (2 days of 2 h, available Wed 15:00-17:00 only) needs four in-block family
  sessions of 1 h (A1F=4): two of them in a row make a family-only day of 2 h. The pre-solve check said
  A1F "must sit within 60 min of P0's other sessions" and could never be held. Optimal: 3.
- ``write_case(folder, FAMILY_AFTER_BLOCK_FILES)``: one patient, Tue only, 3.5 h: a 60-min group in their own
  hours, then two in-block 90-min family sessions in a row in the family's later hours (the second only
  next to the first). The pre-solve check allowed one of them ("can be held once, not the twice
  needed"). Optimal: 1.
"""

from __future__ import annotations

import shutil
from pathlib import Path

TINY = Path(__file__).parent / "data" / "tiny"

RP_ROW = "RP,Relapse prevention,group,60,1,8,sud,1,group,adult,SUD,no,yes\n"


def write_rp_nobody_leads(folder: Path) -> Path:
    """The tiny example + RP (skill 'sud', held by no one), required once by P02 (tagged SUD)."""
    shutil.copytree(TINY, folder)
    for path in folder.iterdir():
        path.chmod(0o644)
    activities = folder / "activities.csv"
    activities.write_text(activities.read_text(encoding="utf-8") + RP_ROW, encoding="utf-8")
    patients = folder / "patients.csv"
    text = patients.read_text(encoding="utf-8")
    old = "P02,B.K.,adult,SUD,3,3,3,4,Mon-Fri 09:00-13:00,,T1,PROC=3; CBT=3; IND=1; MED=1,"
    assert old in text
    patients.write_text(text.replace(old, old.replace("CBT=3;", "CBT=2; RP=1;")), encoding="utf-8")
    return folder


EVAL_FILES = {
    "program.csv": """key,value
name,Solo Saturday
days,Mon-Sat
open,08:00
close,14:00
slot_minutes,5
max_gap_minutes,10
min_days,3
max_days,4
min_hours,2.5
max_hours,4
weight_preferences,100
weight_stability,7.5
weight_balance,0
weight_efficiency,0
weight_spread,0.333
""",
    "activities.csv": """id,name,mode,duration_min,min_size,max_size,skill,staff_count,room_kind,cohort,tag,with_primary,in_block
IND,Individual therapy,individual,55,,,therapy,1,office,any,,yes,yes
MED,Medication check,individual,25,1,1,prescriber,1,office,any,,no,yes
EVAL,Intake assessment,individual,125,1,1,therapy,2,office,any,,no,yes
""",
    "patients.csv": """id,name,cohort,tags,availability,primary_therapist,requirements,preferred_days,status
P01,Quentin Solo,adult,,,T1,IND=6-9; MED=1; EVAL=1,"Tue,Wed,Sat",continuing
""",
    "previous_sessions.csv": """session_id,day,date,start,end,activity_id,activity_name,staff_ids,room_id,patient_ids,pinned
X7,Sat,,08:05,09:00,IND,Individual therapy,T1,O1,P01,yes
S001,Mon,,09:00,09:55,IND,Individual therapy,T1,O1,P01,no
S002,Wed,,12:35,13:00,MED,Medication check,DR,O2,P01,no
""",
    "rooms.csv": """id,name,kind,capacity,availability
O1,Office,office,1,Mon-Sat 08:00-12:00
O2,Office B,office,1,Tue 10:00-14:00; Wed 12:00-14:00
""",
    "staff.csv": """id,name,role,skills,availability,max_hours_day,max_hours_week
T1,Ana Brooks,LCSW,therapy,Mon-Sat 08:00-14:00,{t1_cap},8
T2,Ben Okafor,LPC,therapy,Tue 10:00-13:00; Sat 08:00-12:05,3,
DR,Dr Reyes,MD,prescriber,Wed 12:35-13:00,,
""",
}


def write_eval_over_daily_cap(folder: Path, t1_cap: float = 2, t2_availability: str | None = None) -> Path:
    """The EVAL case with T1's max_hours_day ``t1_cap``; ``t2_availability`` replaces T2's windows."""
    folder.mkdir(parents=True)
    for name, text in EVAL_FILES.items():
        if name == "staff.csv":
            text = text.format(t1_cap=f"{t1_cap:g}")
            if t2_availability is not None:
                text = text.replace("Tue 10:00-13:00; Sat 08:00-12:05", t2_availability)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


CO_LED_PRIMARY_FILES = {
    "activities.csv": """id,name,mode,duration_min,min_size,max_size,skill,staff_count,room_kind,cohort,tag,with_primary,in_block
A0G,Act A0G,group,30,1,1,psyed,2,group,any,SUD,no,yes
A1I,Act A1I,individual,90,1,1,therapy,1,office,any,SUD,yes,no
A2I,Act A2I,individual,30,1,1,therapy,2,group,adolescent,,yes,yes
A3G,Act A3G,group,40,1,1,psyed,1,office,any,SUD,no,yes
""",
    "patients.csv": """id,name,cohort,tags,min_days,max_days,min_hours,max_hours,min_week_hours,max_week_hours,availability,family_availability,primary_therapist,requirements,preferred_days,status
P0,Pat 0,adolescent,SUD,1,2,0,1.5,1,2,,,T2,A1I=0-1; A2I=2-3,Wed,new
P3,Pat 3,adult,SUD,1,3,0,1.5,3,3.5,Wed 09:30-11:10; Mon 13:10-14:40; Fri 10:10-10:30; Fri 10:30-10:50; Fri 09:30-10:00,,T1,A0G=0-2; A1I=1,,continuing
""",
    "program.csv": """key,value
name,Plant 2105
days,"Mon,Wed,Fri"
open,09:00
close,15:00
slot_minutes,10
hours_basis,contact
max_gap_minutes,30
min_days,0
max_days,3
min_hours,0
max_hours,12
min_week_hours,0
max_week_hours,40
weight_preferences,2
weight_balance,0
weight_spread,1.25
""",
    "rooms.csv": """id,name,kind,capacity,availability
G0,Room G0,group,3,Mon 10:30-11:00; Fri 09:30-10:10
G1,Room G1,group,1,Wed 11:40-12:10; Wed 11:25-11:40; Mon 11:20-11:50; Wed 11:10-11:25
O0,Room O0,office,7,Mon 13:00-14:50; Fri 10:10-10:50
O1,Room O1,office,1,
""",
    "staff.csv": """id,name,role,skills,availability,max_hours_day,max_hours_week
T0,Staff T0,LCSW,psyed,Wed 10:30-11:10; Mon 10:30-10:45; Mon 10:45-11:00; Fri 09:30-10:50,,
T1,Staff T1,LCSW,psyed;therapy,,,3.5
T2,Staff T2,LCSW,psyed;therapy,,2,2
T3,Staff T3,LCSW,,,,
""",
}


def write_co_led_primary(folder: Path) -> Path:
    """Two patients; an individual session co-led by the primary therapist and a helper (see above)."""
    return write_case(folder, CO_LED_PRIMARY_FILES)


ZERO_DAYS_FILES = {
    "activities.csv": """id,name,mode,duration_min,min_size,max_size,skill,staff_count,room_kind,cohort,tag,with_primary,in_block
GRP,Group,group,60,1,4,process,1,none,any,,no,yes
""",
    "patients.csv": """id,name,cohort,tags,min_days,max_days,min_hours,max_hours,min_week_hours,max_week_hours,availability,family_availability,primary_therapist,requirements,preferred_days,status
P0,Pat 0,adult,,,,,,,,,,,GRP=1,,
P1,Pat 1,adult,,0,0,0,0,0,0,,,,,,
""",
    "program.csv": """key,value
name,Min A
days,Mon-Fri
open,09:00
close,13:00
min_days,1
max_days,2
min_hours,1
max_hours,3
min_week_hours,0
max_week_hours,10
""",
    "rooms.csv": """id,name,kind,capacity,availability
O0,Office,office,2,
""",
    "staff.csv": """id,name,role,skills,availability,max_hours_day,max_hours_week
T0,Staff 0,LCSW,process,,,
""",
}


FAMILY_DAY_FILES = {
    "activities.csv": """id,name,mode,duration_min,min_size,max_size,skill,staff_count,room_kind,cohort,tag,with_primary,in_block
GRP,Group,group,60,1,4,process,1,none,any,,no,yes
FAM,Family session,family,60,1,1,family,1,none,any,,no,yes
""",
    "patients.csv": """id,name,cohort,tags,min_days,max_days,min_hours,max_hours,min_week_hours,max_week_hours,availability,family_availability,primary_therapist,requirements,preferred_days,status
P0,Pat 0,adult,,2,2,,,,,Mon 09:00-10:00,Tue 09:00-10:00,,GRP=1; FAM=1,,
""",
    "program.csv": """key,value
name,Min B
days,Mon-Fri
open,09:00
close,13:00
min_days,1
max_days,5
min_hours,1
max_hours,3
min_week_hours,0
max_week_hours,10
""",
    "rooms.csv": """id,name,kind,capacity,availability
O0,Office,office,2,
""",
    "staff.csv": """id,name,role,skills,availability,max_hours_day,max_hours_week
T0,Staff 0,LCSW,process;family,,,
""",
}


FAMILY_CHAIN_FILES = {
    "activities.csv": """id,name,mode,duration_min,min_size,max_size,skill,staff_count,room_kind,cohort,tag,with_primary,in_block
A0G,Act A0G,group,60,1,2,process,1,office,any,,no,yes
A1F,Act A1F,family,60,1,1,family,1,office,any,,no,yes
A2G,Act A2G,group,60,1,2,process,1,group,adolescent,SUD,no,yes
A3I,Act A3I,individual,60,1,1,prescriber,1,office,any,,no,no
""",
    "patients.csv": """id,name,cohort,tags,min_days,max_days,min_hours,max_hours,min_week_hours,max_week_hours,availability,family_availability,primary_therapist,requirements,preferred_days,status
P0,Pat 0,adolescent,,2,2,2,2,5,5,Wed 15:00-17:00,Thu 13:00-17:00; Tue 16:00-18:00,T1,A1F=4; A3I=1,,
P1,Pat 1,adult,,1,1,2,2,3,3,Fri 17:00-18:00; Fri 16:30-17:00; Fri 16:00-16:30,Fri 17:00-19:00,T0,A1F=1; A3I=1,,continuing
P2,Pat 2,adult,,2,2,3,3,6,6,,Wed 15:00-19:00; Fri 15:00-17:00; Fri 17:00-19:00,T1,A0G=1; A1F=5; A3I=0,"Mon,Tue,Wed,Thu,Fri",new
P3,Pat 3,adult,SUD,0,4,1,2,2,8,,Mon 17:00-18:00; Mon 16:00-17:00,T1,A0G=0-1; A1F=2-3,,new
P4,Pat 4,adolescent,,1,5,0.5,1,2,7,Mon 15:30-17:00,Wed 18:00-19:00,T1,A0G=1-2; A1F=0-2; A3I=0-1,"Mon,Tue,Wed,Fri",continuing
P5,Pat 5,adolescent,,1,5,1.5,5,6,11,Mon 16:00-17:00; Thu 13:00-15:00; Tue 16:00-17:00,Thu 15:00-16:00; Thu 17:00-18:00; Mon 17:00-18:00,T1,A0G=1-2; A1F=3; A3I=0-1,,
""",
    "program.csv": """key,value
name,Plant 19
days,Mon-Fri
open,13:00
close,19:00
slot_minutes,60
hours_basis,contact
week_start,2026-11-30
max_gap_minutes,60
min_days,0
max_days,5
min_hours,0
max_hours,12
min_week_hours,0
max_week_hours,40
weight_stability,3
weight_balance,0.5
""",
    "rooms.csv": """id,name,kind,capacity,availability
G0,Room G0,group,7,
G1,Room G1,group,3,
O0,Room O0,office,3,
O1,Room O1,office,8,
""",
    "staff.csv": """id,name,role,skills,availability,max_hours_day,max_hours_week
T0,Staff T0,LCSW,family;prescriber,,,12
T1,Staff T1,LCSW,family;process,Thu 13:00-17:00; Mon 16:00-17:00; Wed 16:00-17:00; Mon 17:00-18:00; Wed 17:00-18:00; Tue 16:00-17:00; Tue 17:00-18:00; Wed 18:00-19:00; Fri 15:30-19:00,4,
""",
}


FAMILY_AFTER_BLOCK_FILES = {
    "activities.csv": """id,name,mode,duration_min,min_size,max_size,skill,staff_count,room_kind,cohort,tag,with_primary,in_block
A0G,Act A0G,group,60,1,4,psyed,1,none,any,,no,yes
A2F,Act A2F,family,90,1,1,family,1,none,any,,no,yes
""",
    "patients.csv": """id,name,cohort,tags,min_days,max_days,min_hours,max_hours,min_week_hours,max_week_hours,availability,family_availability,primary_therapist,requirements,preferred_days,status
P1,Pat 1,adult,,1,1,3.5,12,0,40,Tue 14:40-16:45,Tue 15:45-18:50,T1,A0G=1; A2F=2,,
""",
    "program.csv": """key,value
name,Min
days,Tue
open,13:00
close,19:00
slot_minutes,5
hours_basis,contact
max_gap_minutes,5
""",
    "rooms.csv": """id,name,kind,capacity,availability
G0,Room G0,group,1,Tue 14:40-15:42; Tue 15:42-16:45
O0,Room O0,office,7,
O1,Room O1,office,1,
O2,Room O2,office,3,
""",
    "staff.csv": """id,name,role,skills,availability,max_hours_day,max_hours_week
T1,Staff T1,LCSW,family;psyed,,,
""",
}


def write_case(folder: Path, files: dict[str, str]) -> Path:
    """One of the scenarios above (a dict of file name -> text) as a folder of CSV files."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
