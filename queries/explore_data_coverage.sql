-- one row: which optional columns the records fill at all
select
    count(lsoa_code) > 0 as has_lsoa,
    count(outcome) > 0 as has_outcome,
    count(latitude) > 0 and count(longitude) > 0 as has_coordinates
from records
