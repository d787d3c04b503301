-- one row: a Local Policing Area's records of one kind per financial year
-- title: Records by Local Policing Area, kind and financial year
select
    coalesce(d.lpa, d.district_name) as lpa,
    ctm.record_kind,
    case
        when month(ctm.month_start) >= 4 then year(ctm.month_start)
        else year(ctm.month_start) - 1
    end as financial_year_start,
    sum(ctm.count_records) as count_records
from crime_type_monthly as ctm
inner join districts as d on ctm.district_code = d.district_code
group by all
order by lpa, ctm.record_kind, financial_year_start
