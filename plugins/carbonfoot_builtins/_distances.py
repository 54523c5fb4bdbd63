"""Distance limits the built-in modes declare: the longest trip and the longest day by a mode.

carbonfoot pays money per kilometre, so "no limit" is not a default: a trip typed in metres
into a km column (a 12,000 km bike ride) or a GPS track gone wrong would otherwise earn.
A trip over its mode's ``max_trip_km`` is quarantined as ``suspect_distance``, a user's day
by a mode over ``max_daily_km`` as ``suspect_daily_distance``: held for review, never paid
(:mod:`carbonfoot.intake.plausibility`). A district loosens or tightens them in its
configuration (``[plausibility.modes.<id>]``).

Every row below says where its numbers come from and how much of it is published and how
much is a bound chosen here. The published pieces are of three kinds: a survey's definition
of where local travel ends, a rule that limits how long a vehicle may be driven (with the
mode's speed bound from :mod:`carbonfoot_builtins._speeds`), and what an operator or a
sports body records. No national travel survey publishes a *maximum* trip length per mode
(their tables end in an open band, "50 miles and over"), and no carbon-inclusion
methodology we could read states a distance cap, so the local-mode limits are chosen at the
survey's long-distance threshold: conservative for money (a longer trip waits for review)
while every trip of the real bike-share sample in ``tests/data`` stays well inside.

The daily limit of a local mode is twice its trip limit (there and back), a chosen bound.
"""

from __future__ import annotations

from typing import Final

from attrs import field, frozen, validators

from carbonfoot_builtins import _speeds

#: One statute mile in km (international yard and pound agreement, 1959).
MILE_KM: Final = 1.609344

#: DfT, National Travel Survey 2022: Technical report glossary, "Long-distance journeys":
#: "a trip of 50 miles or more in one direction" (GOV.UK, published 30 August 2023,
#: https://www.gov.uk/government/statistics/national-travel-survey-2022-technical-report/national-travel-survey-2022-technical-report-glossary).
#: The NTS trip-length tables (NTS0308) end with open bands above it.
LONG_DISTANCE_KM: Final = 50 * MILE_KM

#: Road Traffic Safety Law of the PRC, Implementing Regulations, art. 62(7): no driving for
#: more than 4 hours without a stop of at least 20 minutes.
CONTINUOUS_DRIVING_H: Final = 4.0

#: Regulation (EC) No 561/2006 (drivers' hours), art. 6(1): daily driving time shall not
#: exceed nine hours. China sets no daily limit for private drivers; the EU rule for
#: professional drivers is the published figure closest to a day's driving.
DAILY_DRIVING_H: Final = 9.0


@frozen
class DistanceLimits:
    """A mode's longest plausible trip and day, in km, with where the figures come from.

    ``basis`` is one line for tables (the README's, ``catalog``); ``source`` names the
    publications, and says which part is a bound chosen here.
    """

    max_trip_km: float = field(validator=validators.gt(0.0))
    max_daily_km: float = field(validator=validators.gt(0.0))
    basis: str = field(validator=validators.min_len(1))
    source: str = field(validator=validators.min_len(1))

    @max_daily_km.validator
    def _check_daily(self, _attribute: object, value: float) -> None:
        if value < self.max_trip_km:
            raise ValueError(f"max_daily_km {value} is below max_trip_km {self.max_trip_km}")


#: Walking: a marathon (42.195 km, World Athletics Competition Rules, road races) as one
#: trip, two in a day. Chosen: no survey or programme publishes a longest walk; the NTS
#: long-distance threshold (80.5 km) is far beyond any walk to somewhere.
WALK: Final = DistanceLimits(
    max_trip_km=42.195,
    max_daily_km=2 * 42.195,
    basis="a marathon per trip, two per day (chosen; no published maximum walk)",
    source=(
        "World Athletics Competition Rules: marathon 42.195 km. Chosen bound: no national "
        "travel survey or carbon-inclusion methodology publishes a maximum walking trip."
    ),
)

#: Cycling, own or shared: the NTS long-distance threshold per trip. Strasser's 24-hour
#: road record (1,026.215 km, Zeltweg, July 2021, Ultracycling World Association, pending
#: ratification when reported) shows what is physically possible in a day; it is not a
#: limit a programme should pay up to.
BIKE: Final = DistanceLimits(
    max_trip_km=LONG_DISTANCE_KM,
    max_daily_km=2 * LONG_DISTANCE_KM,
    basis="NTS long-distance threshold, 50 miles, per trip; twice that per day",
    source=(
        "DfT National Travel Survey 2022 technical report glossary, long-distance journey "
        "= 50 miles or more (GOV.UK, 2023). Daily = 2 x trip, chosen. Upper reference: "
        "24-hour road cycling record 1,026.215 km (C. Strasser, 2021)."
    ),
)

#: Shared bicycles: as own bicycles. Operators bound a ride by time, not distance: Divvy
#: (Lyft) removes trips over 24 hours from its published data and treats a bike out for
#: 24 hours as lost (Divvy system data README; Divvy rental agreement, Chicago Tribune,
#: 29 May 2013); 24 h at the bicycle speed bound (56.8 km/h) is 1,363 km, far too loose.
SHARED_BIKE: Final = DistanceLimits(
    max_trip_km=BIKE.max_trip_km,
    max_daily_km=BIKE.max_daily_km,
    basis="as a bicycle: NTS 50-mile threshold per trip, twice per day",
    source=(
        BIKE.source + " Operators limit rides by time only: Divvy trip data exclude trips "
        "over 24 hours (Divvy system data README, Lyft Bikes and Scooters)."
    ),
)

#: E-bikes and e-scooters: local modes; the NTS threshold, as bicycles. Their speed
#: bounds (25 km/h) make the threshold a ride of over three hours.
MICROMOBILITY: Final = DistanceLimits(
    max_trip_km=LONG_DISTANCE_KM,
    max_daily_km=2 * LONG_DISTANCE_KM,
    basis="NTS long-distance threshold, 50 miles, per trip; twice that per day",
    source=BIKE.source.split(" Upper reference")[0],
)

#: Local bus, tram, ferry: local public transport; the NTS threshold per trip. A longer
#: ferry crossing (a sea route) is quarantined for review.
LOCAL_TRANSIT: Final = DistanceLimits(
    max_trip_km=LONG_DISTANCE_KM,
    max_daily_km=2 * LONG_DISTANCE_KM,
    basis="NTS long-distance threshold, 50 miles, per trip; twice that per day",
    source=MICROMOBILITY.source + " Longer sea crossings by ferry go to review.",
)

#: Metro: a trip across the largest networks, changing lines, can pass the NTS threshold
#: (single metro lines in Shanghai and Chengdu run 60-80 km end to end, operators' line
#: lengths, not verified here), so 120 km per trip and 240 km per day. Chosen.
METRO: Final = DistanceLimits(
    max_trip_km=120.0,
    max_daily_km=240.0,
    basis="120 km per trip, 240 per day (chosen: above the longest metro lines)",
    source=(
        "Chosen bound: no published maximum metro trip. Above the end-to-end length of "
        "the longest single metro lines (60-80 km, operators' figures, not verified here)."
    ),
)

#: Road vehicles (cars, taxis, carpools, motorbikes): the longest legal stint at the road
#: speed bound per trip, the longest driving day at it per day.
ROAD: Final = DistanceLimits(
    max_trip_km=CONTINUOUS_DRIVING_H * _speeds.ROAD.max_kmh,
    max_daily_km=DAILY_DRIVING_H * _speeds.ROAD.max_kmh,
    basis="4 h continuous driving (PRC) and 9 h a day (EU 561/2006) at 120 km/h",
    source=(
        "Regulations for the Implementation of the Road Traffic Safety Law of the PRC, "
        "art. 62(7): at most 4 h of driving without a 20-minute stop; Regulation (EC) "
        "No 561/2006, art. 6(1): daily driving time at most 9 h; speed bound 120 km/h "
        "(PRC expressway limit, art. 78)."
    ),
)

#: Rail (suburban and national): one long journey a day. Chosen at 2,500 km, above the
#: Beijing-Guangzhou high-speed line (about 2,300 km, not verified here); longer scheduled
#: journeys (Beijing-Lhasa) exist and are quarantined for review.
RAIL: Final = DistanceLimits(
    max_trip_km=2500.0,
    max_daily_km=2500.0,
    basis="2,500 km per trip and per day (chosen: above Beijing-Guangzhou HSR)",
    source=(
        "Chosen bound: no published maximum rail trip. Above the Beijing-Guangzhou "
        "high-speed railway (about 2,300 km, China State Railway Group, not verified here); "
        "longer journeys go to review."
    ),
)
