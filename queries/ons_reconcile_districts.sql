-- one row: a district of the force with its crime records over a year and the ONS count for its Community Safety Partnership
with recorded as (
    select
        district_code,
        count(*) as count_records
    from records
    where
        record_kind = 'crime'
        and ($force::varchar is null or force = $force::varchar)
        and month_start between $first_month::date and $last_month::date
        and list_contains($crime_types::varchar[], crime_type)
    group by district_code
),

published as (
    select
        la_code,
        area_name as csp_name,
        max(value) as ons_count,
        max(marker) as ons_marker
    from read_parquet($figures_path::varchar)
    where
        geography = 'csp'
        and area_kind = 'csp'
        and force_code = $force_code::varchar
        and measure = 'count'
        and period_end = $last_month::date
        and offence_group = $offence_group::varchar
    group by la_code, area_name
),

final as (
    select
        d.district_code,
        d.district_name,
        p.csp_name,
        coalesce(r.count_records, 0)::bigint as count_records,
        p.ons_count,
        p.ons_marker,
        coalesce(r.count_records, 0) - p.ons_count as difference
    from districts as d
    left join recorded as r on d.district_code = r.district_code
    left join published as p on d.district_code = p.la_code
    where list_contains($district_codes::varchar[], d.district_code)
)

select * from final
order by district_name
