-- one row: the lead's commentary on one strand for one period
select commentary
from commentary
where strand_id = $strand_id::varchar and period = $period::varchar
