"""North Carolina's school districts and places, for synthetic data.

NC has 115 LEAs: one per county (LEA code = the county's number, alphabetical in tens: 010
Alamance ... 995 Yancey) and 15 city units that share a county (111 Asheville City inside
Buncombe, 681 Chapel Hill-Carrboro inside Orange). Charter schools are LEAs of their own, coded
by the two leading digits of their county and a letter (92F, 01B, 32K).

Names, county seats and ZIP prefixes are real; the high schools of the best-known districts
are real names too, the others are made up in the same style.
"""

from __future__ import annotations

import random
from bisect import bisect
from dataclasses import dataclass
from itertools import accumulate


@dataclass(frozen=True)
class County:
    lea_code: str  # e.g. "920"
    name: str  # e.g. "Wake"
    seat: str  # county seat, e.g. "Raleigh"
    zip3: str  # the ZIP prefix of most of the county, e.g. "276"
    high_schools: int  # how many high schools the county LEA gets (by size, 1-6)
    lea_name: str  # e.g. "Wake County Public School System"


@dataclass(frozen=True)
class CityUnit:
    lea_code: str
    name: str
    county: str
    city: str


def _list(text: str) -> tuple[str, ...]:
    """A comma-separated list; line breaks inside an item count as one space."""
    return tuple(" ".join(item.split()) for item in text.split(",") if item.strip())


def _table(text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.split("|")]
        for line in text.strip().splitlines()
        if line.strip()
    ]


# lea | county | seat | zip3 | high schools | LEA name ("" = "<County> County Schools")
_COUNTIES = _table(
    """
    010 | Alamance | Graham | 272 | 3 | Alamance-Burlington Schools
    020 | Alexander | Taylorsville | 286 | 1 |
    030 | Alleghany | Sparta | 286 | 1 |
    040 | Anson | Wadesboro | 281 | 1 |
    050 | Ashe | Jefferson | 286 | 1 |
    060 | Avery | Newland | 286 | 1 |
    070 | Beaufort | Washington | 278 | 2 |
    080 | Bertie | Windsor | 279 | 1 |
    090 | Bladen | Elizabethtown | 283 | 2 |
    100 | Brunswick | Bolivia | 284 | 3 |
    110 | Buncombe | Asheville | 288 | 4 |
    120 | Burke | Morganton | 286 | 2 | Burke County Public Schools
    130 | Cabarrus | Concord | 280 | 4 |
    140 | Caldwell | Lenoir | 286 | 2 |
    150 | Camden | Camden | 279 | 1 |
    160 | Carteret | Beaufort | 285 | 2 | Carteret County Public Schools
    170 | Caswell | Yanceyville | 273 | 1 |
    180 | Catawba | Newton | 286 | 3 |
    190 | Chatham | Pittsboro | 273 | 2 |
    200 | Cherokee | Murphy | 289 | 1 |
    210 | Chowan | Edenton | 279 | 1 | Edenton-Chowan Schools
    220 | Clay | Hayesville | 289 | 1 |
    230 | Cleveland | Shelby | 281 | 2 |
    240 | Columbus | Whiteville | 284 | 2 |
    250 | Craven | New Bern | 285 | 2 |
    260 | Cumberland | Fayetteville | 283 | 5 |
    270 | Currituck | Currituck | 279 | 1 |
    280 | Dare | Manteo | 279 | 1 |
    290 | Davidson | Lexington | 272 | 3 |
    300 | Davie | Mocksville | 270 | 1 |
    310 | Duplin | Kenansville | 283 | 2 |
    320 | Durham | Durham | 277 | 4 | Durham Public Schools
    330 | Edgecombe | Tarboro | 278 | 1 | Edgecombe County Public Schools
    340 | Forsyth | Winston-Salem | 271 | 5 | Winston-Salem/Forsyth County Schools
    350 | Franklin | Louisburg | 275 | 2 |
    360 | Gaston | Gastonia | 280 | 4 |
    370 | Gates | Gatesville | 279 | 1 |
    380 | Graham | Robbinsville | 287 | 1 |
    390 | Granville | Oxford | 275 | 2 |
    400 | Greene | Snow Hill | 285 | 1 |
    410 | Guilford | Greensboro | 274 | 6 |
    420 | Halifax | Halifax | 278 | 1 |
    430 | Harnett | Lillington | 275 | 3 |
    440 | Haywood | Waynesville | 287 | 2 |
    450 | Henderson | Hendersonville | 287 | 2 | Henderson County Public Schools
    460 | Hertford | Winton | 279 | 1 |
    470 | Hoke | Raeford | 283 | 1 |
    480 | Hyde | Swan Quarter | 278 | 1 |
    490 | Iredell | Statesville | 286 | 3 | Iredell-Statesville Schools
    500 | Jackson | Sylva | 287 | 1 |
    510 | Johnston | Smithfield | 275 | 4 |
    520 | Jones | Trenton | 285 | 1 |
    530 | Lee | Sanford | 273 | 2 |
    540 | Lenoir | Kinston | 285 | 2 | Lenoir County Public Schools
    550 | Lincoln | Lincolnton | 280 | 2 |
    560 | Macon | Franklin | 287 | 1 |
    570 | Madison | Marshall | 287 | 1 |
    580 | Martin | Williamston | 278 | 1 |
    590 | McDowell | Marion | 287 | 1 |
    600 | Mecklenburg | Charlotte | 282 | 6 | Charlotte-Mecklenburg Schools
    610 | Mitchell | Bakersville | 287 | 1 |
    620 | Montgomery | Troy | 273 | 1 |
    630 | Moore | Carthage | 283 | 2 |
    640 | Nash | Nashville | 278 | 2 | Nash County Public Schools
    650 | New Hanover | Wilmington | 284 | 3 |
    660 | Northampton | Jackson | 278 | 1 |
    670 | Onslow | Jacksonville | 285 | 3 |
    680 | Orange | Hillsborough | 272 | 2 |
    690 | Pamlico | Bayboro | 285 | 1 |
    700 | Pasquotank | Elizabeth City | 279 | 1 | Elizabeth City-Pasquotank Public Schools
    710 | Pender | Burgaw | 284 | 2 |
    720 | Perquimans | Hertford | 279 | 1 |
    730 | Person | Roxboro | 275 | 1 |
    740 | Pitt | Greenville | 278 | 3 |
    750 | Polk | Columbus | 287 | 1 |
    760 | Randolph | Asheboro | 272 | 3 |
    770 | Richmond | Rockingham | 283 | 1 |
    780 | Robeson | Lumberton | 283 | 3 | Public Schools of Robeson County
    790 | Rockingham | Reidsville | 273 | 2 |
    800 | Rowan | Salisbury | 281 | 3 | Rowan-Salisbury Schools
    810 | Rutherford | Forest City | 281 | 2 |
    820 | Sampson | Clinton | 283 | 2 |
    830 | Scotland | Laurinburg | 283 | 1 |
    840 | Stanly | Albemarle | 280 | 2 |
    850 | Stokes | Danbury | 270 | 2 |
    860 | Surry | Dobson | 270 | 2 |
    870 | Swain | Bryson City | 287 | 1 |
    880 | Transylvania | Brevard | 287 | 1 |
    890 | Tyrrell | Columbia | 279 | 1 |
    900 | Union | Monroe | 281 | 4 | Union County Public Schools
    910 | Vance | Henderson | 275 | 1 |
    920 | Wake | Raleigh | 276 | 6 | Wake County Public School System
    930 | Warren | Warrenton | 275 | 1 |
    940 | Washington | Plymouth | 279 | 1 |
    950 | Watauga | Boone | 286 | 1 |
    960 | Wayne | Goldsboro | 275 | 2 | Wayne County Public Schools
    970 | Wilkes | Wilkesboro | 286 | 2 |
    980 | Wilson | Wilson | 278 | 2 |
    990 | Yadkin | Yadkinville | 270 | 1 |
    995 | Yancey | Burnsville | 287 | 1 |
    """
)

COUNTIES: tuple[County, ...] = tuple(
    County(lea, name, seat, zip3, int(schools), lea_name or f"{name} County Schools")
    for lea, name, seat, zip3, schools, lea_name in _COUNTIES
)
COUNTY_BY_NAME = {c.name: c for c in COUNTIES}

CITY_UNITS: tuple[CityUnit, ...] = tuple(
    CityUnit(lea, name, county, city)
    for lea, name, county, city in _table(
        """
        111 | Asheville City Schools | Buncombe | Asheville
        132 | Kannapolis City Schools | Cabarrus | Kannapolis
        181 | Hickory Public Schools | Catawba | Hickory
        182 | Newton-Conover City Schools | Catawba | Newton
        241 | Whiteville City Schools | Columbus | Whiteville
        292 | Lexington City Schools | Davidson | Lexington
        293 | Thomasville City Schools | Davidson | Thomasville
        421 | Roanoke Rapids City Schools | Halifax | Roanoke Rapids
        422 | Weldon City Schools | Halifax | Weldon
        491 | Mooresville Graded School District | Iredell | Mooresville
        681 | Chapel Hill-Carrboro City Schools | Orange | Chapel Hill
        761 | Asheboro City Schools | Randolph | Asheboro
        821 | Clinton City Schools | Sampson | Clinton
        861 | Elkin City Schools | Surry | Elkin
        862 | Mount Airy City Schools | Surry | Mount Airy
        """
    )
)

# The districts that lead every plan, demo districts first (`gateway dev` seeds those three).
LEADING_LEAS: tuple[str, ...] = (
    "920", "600", "320", "410", "340", "260", "010", "681", "110", "111", "130", "510",
    "900", "360", "650", "740", "670", "490", "180", "760",
)  # fmt: skip

# Towns beyond the county seat, for the high schools of larger counties.
TOWNS: dict[str, tuple[str, ...]] = {
    "Wake": ("Raleigh", "Cary", "Apex", "Wake Forest", "Garner", "Holly Springs", "Knightdale"),
    "Mecklenburg": ("Charlotte", "Huntersville", "Matthews", "Cornelius", "Mint Hill"),
    "Guilford": ("Greensboro", "High Point", "Jamestown", "Summerfield", "McLeansville"),
    "Forsyth": ("Winston-Salem", "Kernersville", "Clemmons", "Lewisville"),
    "Cumberland": ("Fayetteville", "Hope Mills", "Spring Lake", "Stedman"),
    "Johnston": ("Smithfield", "Clayton", "Selma", "Benson", "Four Oaks"),
    "Union": ("Monroe", "Waxhaw", "Indian Trail", "Weddington"),
    "Buncombe": ("Asheville", "Weaverville", "Candler", "Swannanoa", "Fletcher"),
    "Cabarrus": ("Concord", "Harrisburg", "Midland", "Mount Pleasant"),
    "Gaston": ("Gastonia", "Belmont", "Cherryville", "Mount Holly", "Stanley"),
    "New Hanover": ("Wilmington", "Castle Hayne"),
    "Onslow": ("Jacksonville", "Richlands", "Swansboro", "Sneads Ferry"),
    "Pitt": ("Greenville", "Farmville", "Ayden", "Winterville"),
    "Brunswick": ("Bolivia", "Leland", "Shallotte", "Southport"),
    "Alamance": ("Burlington", "Graham", "Mebane", "Elon"),
    "Robeson": ("Lumberton", "Pembroke", "Fairmont", "Red Springs"),
}

# Real high schools of the best-known districts: (name, town).
KNOWN_SCHOOLS: dict[str, tuple[tuple[str, str], ...]] = {
    "920": (
        ("Needham B. Broughton High School", "Raleigh"),
        ("William G. Enloe Magnet High School", "Raleigh"),
        ("Green Hope High School", "Cary"),
        ("Apex Friendship High School", "Apex"),
        ("Wake Forest High School", "Wake Forest"),
        ("Garner Magnet High School", "Garner"),
    ),
    "600": (
        ("Myers Park High School", "Charlotte"),
        ("Ardrey Kell High School", "Charlotte"),
        ("West Charlotte High School", "Charlotte"),
        ("North Mecklenburg High School", "Huntersville"),
        ("David W. Butler High School", "Matthews"),
        ("Harding University High School", "Charlotte"),
    ),
    "320": (
        ("Hillside High School", "Durham"),
        ("Charles E. Jordan High School", "Durham"),
        ("Riverside High School", "Durham"),
        ("Northern High School", "Durham"),
    ),
    "410": (
        ("Grimsley High School", "Greensboro"),
        ("Walter Hines Page High School", "Greensboro"),
        ("James B. Dudley High School", "Greensboro"),
        ("Northwest Guilford High School", "Greensboro"),
        ("High Point Central High School", "High Point"),
        ("Southwest Guilford High School", "High Point"),
    ),
    "340": (
        ("Richard J. Reynolds High School", "Winston-Salem"),
        ("Mount Tabor High School", "Winston-Salem"),
        ("Parkland Magnet High School", "Winston-Salem"),
        ("Glenn High School", "Kernersville"),
        ("West Forsyth High School", "Clemmons"),
    ),
    "260": (
        ("Pine Forest High School", "Fayetteville"),
        ("Terry Sanford High School", "Fayetteville"),
        ("Seventy-First High School", "Fayetteville"),
        ("Jack Britt High School", "Fayetteville"),
        ("Cape Fear High School", "Fayetteville"),
    ),
    "010": (
        ("Walter M. Williams High School", "Burlington"),
        ("Hugh M. Cummings High School", "Burlington"),
        ("Eastern Alamance High School", "Mebane"),
    ),
    "681": (("Chapel Hill High School", "Chapel Hill"),),
    "110": (
        ("T.C. Roberson High School", "Asheville"),
        ("North Buncombe High School", "Weaverville"),
        ("Clyde A. Erwin High School", "Asheville"),
        ("Enka High School", "Candler"),
    ),
    "111": (("Asheville High School", "Asheville"),),
}

# Namesakes and place words for made-up high school names.
SCHOOL_NAMESAKES: tuple[str, ...] = _list(
    """
    Heritage, Riverside, Millbrook, Southern, Northern, Eastern, Western, Central, Pinecrest,
    Cedar Ridge, Oak Grove, Crossroads, Ledford, Ragsdale, Hibriten, Patton, Freedom, Hunter
    Huss, Ashbrook, Forestview, Lakewood, Midway, Union Pines, Swansboro, White Oak, Hoggard,
    Laney, Ashley, Topsail, West Craven, Havelock, Roanoke, Bunn, Southern Nash, Northside,
    Southside, J.H. Rose, D.H. Conley, South Granville, Triton, Overhills, Western Harnett,
    Lee County, Southern Lee, Jordan-Matthews, Northwood, Piedmont, Forest Hills, Parkwood,
    Sun Valley, Porter Ridge, Cuthbertson, Marvin Ridge, Weddington, Cox Mill, Jay M. Robinson
    """
)

STREETS: tuple[str, ...] = _list(
    """
    Main St, Academy St, Church St, Hillsborough St, Fayetteville St, Wade Ave, Glenwood Ave,
    Six Forks Rd, Tryon Rd, Old Wake Forest Rd, High School Rd, Raleigh Rd, Pine St,
    Dogwood Ln, Longleaf Dr, Cardinal Dr, Magnolia Ave, Cedar Creek Rd, Old US Hwy 70,
    NC Hwy 24, Market St, College Rd, Tarboro St, Salisbury Rd, Trade St, Patton Ave,
    Broad St, Independence Blvd, Airport Rd, Old Stage Rd, Mountain View Rd, Piney Green Rd
    """
)

# Charter school names: a place word and a kind of school.
CHARTER_PLACES: tuple[str, ...] = _list(
    """
    Cardinal, Longleaf, Piedmont, Blue Ridge, Pamlico, Catawba River, Uwharrie, Haw River,
    Neuse River, Cape Fear, Crystal Coast, Tar River, Yadkin Valley, Triangle, Triad,
    Sandhills, Outer Banks, Blue Heron, Dogwood, Pinnacle, Summit, Horizon, Lighthouse,
    Mountain Island, Lake Norman, Sugar Creek, Crossroads, Heritage, Liberty, Discovery,
    Pioneer, Bridges, Pathways, Legacy, Evergreen, Magnolia, Riverbend, Falls Lake, Jordan Lake,
    Eno River, Brushy Mountain, Roanoke Valley, Alamance, Brunswick, Carolina, Tidewater
    """
)
CHARTER_KINDS: tuple[str, ...] = (
    "Academy",
    "Charter School",
    "Preparatory Academy",
    "Leadership Academy",
    "STEM Academy",
    "Classical Academy",
    "Early College",
    "Charter High School",
    "Global Academy",
    "Arts Academy",
)


@dataclass(frozen=True)
class OtherState:
    """Where transfer students come from outside NC: codes that make valid-looking ids."""

    code: str  # USPS
    fips: str  # the first two digits of an NCES school id
    ceeb: str  # the first two digits of a CEEB code
    zip2: str  # a ZIP prefix
    cities: tuple[str, ...]


OTHER_STATES: tuple[OtherState, ...] = (
    OtherState("VA", "51", "47", "23", ("Norfolk", "Virginia Beach", "Richmond", "Danville")),
    OtherState("SC", "45", "41", "29", ("Rock Hill", "Greenville", "Columbia", "Myrtle Beach")),
    OtherState("GA", "13", "11", "30", ("Atlanta", "Savannah", "Augusta", "Marietta")),
    OtherState("FL", "12", "10", "32", ("Jacksonville", "Orlando", "Tampa", "Pensacola")),
    OtherState("TX", "48", "44", "78", ("San Antonio", "Killeen", "El Paso", "Houston")),
    OtherState("NY", "36", "33", "11", ("Brooklyn", "Queens", "Yonkers", "Buffalo")),
    OtherState("NJ", "34", "31", "07", ("Newark", "Paterson", "Elizabeth", "Trenton")),
    OtherState("PA", "42", "39", "19", ("Philadelphia", "Pittsburgh", "Allentown", "Erie")),
    OtherState("OH", "39", "36", "43", ("Columbus", "Cleveland", "Cincinnati", "Dayton")),
    OtherState("CA", "06", "05", "92", ("San Diego", "Oceanside", "Riverside", "Fresno")),
    OtherState("MD", "24", "21", "21", ("Baltimore", "Silver Spring", "Frederick")),
    OtherState("TN", "47", "43", "37", ("Knoxville", "Nashville", "Chattanooga")),
)


def area_code(zip3: str) -> str:
    """The telephone area code of an NC ZIP prefix (the original code of each region)."""
    prefix = int(zip3)
    if prefix <= 274:
        return "336"  # the Triad and the northwest Piedmont
    if prefix <= 277:
        return "919"  # the Triangle
    if prefix <= 279 or prefix == 285:
        return "252"  # the east
    if prefix <= 282:
        return "704"  # Charlotte and the southern Piedmont
    if prefix <= 284:
        return "910"  # the southeast and Sandhills
    return "828"  # the mountains


# --- the state's district list -------------------------------------------------------------
MAX_DISTRICTS = 1000


@dataclass(frozen=True)
class DistrictPlan:
    """One district to generate: who it is and how big its high school network is."""

    lea_code: str
    name: str
    kind: str  # 'lea' or 'charter'
    county: str
    index: int  # position in the state's plan; keeps UIDs and school codes apart
    high_schools: int
    town: str | None = None  # a city unit's or charter's town (county LEAs: the seat)

    @property
    def home_town(self) -> str:
        return self.town or COUNTY_BY_NAME[self.county].seat


def district_plans(count: int) -> list[DistrictPlan]:
    """The state's first `count` districts: the best-known LEAs (demo ones first), the other
    county and city LEAs, then charter schools. The same list every time."""
    if not 0 <= count <= MAX_DISTRICTS:
        raise ValueError(f"between 0 and {MAX_DISTRICTS} districts, not {count}")
    plans = _lea_plans()
    if count > len(plans):
        plans += _charter_plans(count - len(plans), start=len(plans))
    return plans[:count]


def _lea_plans() -> list[DistrictPlan]:
    found: dict[str, tuple[str, str, str, int, str | None]] = {}
    for c in COUNTIES:
        found[c.lea_code] = (c.lea_name, "lea", c.name, c.high_schools, None)
    for u in CITY_UNITS:
        found[u.lea_code] = (u.name, "lea", u.county, 1, u.city)
    codes = list(LEADING_LEAS) + sorted(set(found) - set(LEADING_LEAS))
    return [
        DistrictPlan(code, name, kind, county, index, schools, town)
        for index, code in enumerate(codes)
        for name, kind, county, schools, town in [found[code]]
    ]


def _charter_plans(count: int, start: int) -> list[DistrictPlan]:
    rng = random.Random("nc-charter-schools")
    counties = list(COUNTIES)
    # Charters cluster where people live: weight counties by their number of high schools.
    cumulative = list(accumulate(c.high_schools**2 for c in counties))
    letters: dict[str, int] = {}
    names: set[str] = set()
    plans: list[DistrictPlan] = []
    while len(plans) < count:
        county = counties[bisect(cumulative, rng.random() * cumulative[-1])]
        prefix = county.lea_code[:2]
        used = letters.get(prefix, 0)
        if used == 26:
            continue
        letters[prefix] = used + 1
        town = rng.choice(TOWNS.get(county.name, (county.seat,)))
        name = _charter_name(rng, town, names)
        names.add(name)
        code = prefix + chr(ord("A") + used)
        plans.append(DistrictPlan(code, name, "charter", county.name, start + len(plans), 1, town))
    return plans


def _charter_name(rng: random.Random, town: str, taken: set[str]) -> str:
    for _ in range(40):
        place = rng.choice((*CHARTER_PLACES, town))
        name = f"{place} {rng.choice(CHARTER_KINDS)}"
        if name not in taken:
            return name
    serial = 2
    while f"{town} Charter School {serial}" in taken:
        serial += 1
    return f"{town} Charter School {serial}"
