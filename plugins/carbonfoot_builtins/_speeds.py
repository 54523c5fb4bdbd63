"""Speed bounds the built-in modes share, each with the publication it comes from.

They are loose upper bounds on a trip's average speed, meant to catch data errors and
fraud (a "walk" at 30 km/h), not to judge ordinary trips; a district tightens them in
its own configuration.
"""

from carbonfoot import SpeedRange

#: 20 km race walk world record, 1:16:36 (Yusuke Suzuki, 2015; World Athletics records):
#: 15.67 km/h, faster than any everyday walk.
WALK = SpeedRange(0.0, 15.67, basis="20 km race-walk world record pace (World Athletics, 2015)")

#: UCI hour record, 56.792 km (Filippo Ganna, 2022; Union Cycliste Internationale records).
BIKE = SpeedRange(0.0, 56.792, basis="UCI hour record distance in one hour (Ganna, 2022)")

#: GB 17761-2018 (电动自行车安全技术规范) limits an e-bike's maximum design speed to 25 km/h.
E_BIKE = SpeedRange(0.0, 25.0, basis="GB 17761-2018 maximum design speed of an e-bike")

#: UK DfT e-scooter trials: rental e-scooters are limited to 15.5 mph (24.9 km/h).
E_SCOOTER = SpeedRange(0.0, 24.94, basis="UK DfT e-scooter trial speed limit, 15.5 mph")

#: Road Traffic Safety Law of the PRC, Implementing Regulations art. 78: expressways
#: 120 km/h at most; no road vehicle trip averages more.
ROAD = SpeedRange(
    0.0, 120.0, basis="PRC expressway speed limit (Road Traffic Safety Law regulations, art. 78)"
)

#: Beijing-Shanghai high-speed railway, scheduled operation at 350 km/h (China State
#: Railway Group, Fuxing CR400 services since 2017): the fastest scheduled rail service.
RAIL = SpeedRange(
    0.0, 350.0, basis="fastest scheduled rail service in China, 350 km/h (CR400, 2017)"
)

#: No published bound for ferries was found; the road bound is used as a loose cap.
WATER = SpeedRange(
    0.0, 120.0, basis="no ferry bound published; loose cap at the PRC expressway limit"
)
