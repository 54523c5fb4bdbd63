"""Which trips earn by default under the built-in policies (shared by both of them)."""

#: Categories that earn by default: walking, cycling, micromobility, public transport and
#: shared rides. Nanjing's green credit rewards walking, public bicycles, bus and metro
#: (金陵晚报, 2022-10-31); private cars and motorbikes are computed but earn nothing.
DEFAULT_ELIGIBLE = "active,micromobility,public,shared"
