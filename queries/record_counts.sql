-- one row: the records in one combination of the chosen dimensions (the others folded away)
with chosen as (
    select
        r.month_start,
        r.force,
        r.record_kind,
        r.crime_type,
        r.outcome,
        r.lsoa_code,
        r.district_code,
        coalesce(d.district_name, r.district_code) as district_name,
        d.lpa
    from records as r
    left join districts as d on r.district_code = d.district_code
    where
        ($start_month::varchar is null or r.month >= $start_month::varchar)
        and ($end_month::varchar is null or r.month <= $end_month::varchar)
        and ($force::varchar is null or r.force = $force::varchar)
        and (
            $district_codes::varchar[] is null
            or list_contains($district_codes::varchar[], r.district_code)
        )
        and (
            $record_kinds::varchar[] is null
            or list_contains($record_kinds::varchar[], r.record_kind)
        )
        and (
            $crime_types::varchar[] is null
            or list_contains($crime_types::varchar[], r.crime_type)
        )
),

final as (
    select
        case when $by_month::boolean then month_start end as month_start,
        case when $by_force::boolean then force end as force,
        case when $by_district::boolean then district_name end as district_name,
        case when $by_lpa::boolean then lpa end as lpa,
        case when $by_crime_type::boolean then crime_type end as crime_type,
        case when $by_record_kind::boolean then record_kind end as record_kind,
        case when $by_outcome::boolean then outcome end as outcome,
        case when $by_lsoa::boolean then lsoa_code end as lsoa_code,
        count(*)::bigint as count_records
    from chosen
    group by all
)

select * from final
order by all
