-- one row: a crime type among Basildon's knife-enabled crimes, this year and last
-- title: Knife crime in Basildon by crime type
select
    r.crime_type,
    count(*) filter (where r.month between '2021-10' and '2022-09') as current_count,
    count(*) filter (where r.month between '2020-10' and '2021-09') as previous_count
from records as r
inner join districts as d on r.district_code = d.district_code
where
    r.record_kind = 'crime'
    and r.is_knife_enabled
    and d.district_name = 'Basildon'
    and r.month between '2020-10' and '2022-09'
group by all
order by current_count - previous_count desc
