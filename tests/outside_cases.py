"""Scenario folders from an outside check (outside17), written as CSV files for the real reader.

- ``write_rp_nobody_leads(folder)``: the tiny example plus a relapse-prevention group RP whose skill
  ``sud`` no staff member holds, required by P02 only. It was refused as bad input (exit 1) even with
  ``--best-effort``; it is a scheduling conflict (H5): strict solve infeasible naming RP, 'sud' and P02;
  best effort schedules the other five and waitlists P02 with that reason.
- ``write_eval_over_daily_cap(folder, t1_cap)``: a 125-min assessment EVAL needing both therapists T1
  and T2; T1's max_hours_day is ``t1_cap`` hours. At 2 the pre-solve check said (H3) that T1 and T2
  are "never free at the same time", though they are free together Tue 10:00-13:00 and Sat
  08:00-12:05; the cause is T1's daily cap (H8). At 3 neither finding may appear.
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
