-- one row: a police force area (or England and Wales) and its published figures for one offence group
with figures as (
    select *
    from read_parquet($figures_path::varchar)
    where geography = 'pfa' and area_kind in ('force', 'england_and_wales')
),

areas as (
    select distinct
        area_code,
        area_name,
        area_kind
    from figures
    where measure = 'count' and period_end = $period_end::date
),

picked as (
    select
        area_code,
        max(value) filter (
            where measure = 'count' and period_end = $period_end::date
            and offence_group = $offence_group::varchar
        ) as count_offences,
        max(marker) filter (
            where measure = 'count' and period_end = $period_end::date
            and offence_group = $offence_group::varchar
        ) as count_marker,
        max(value) filter (
            where measure = 'count' and period_end = $previous_end::date
            and offence_group = $offence_group::varchar
        ) as previous_count,
        max(value) filter (
            where measure = 'pct_change' and offence_group = $offence_group::varchar
        ) as pct_change,
        max(marker) filter (
            where measure = 'pct_change' and offence_group = $offence_group::varchar
        ) as pct_change_marker,
        max(value) filter (where measure = 'population') as population,
        max(value) filter (where measure = 'households') as households,
        max(value) filter (
            where measure = 'rate_per_1000' and offence_group = $offence_group::varchar
        ) as rate_per_1000_population,
        max(marker) filter (
            where measure = 'rate_per_1000' and offence_group = $offence_group::varchar
        ) as rate_population_marker,
        max(value) filter (
            where measure = 'rate_per_1000_households' and offence_group = $offence_group::varchar
        ) as rate_per_1000_households,
        max(marker) filter (
            where measure = 'rate_per_1000_households' and offence_group = $offence_group::varchar
        ) as rate_households_marker,
        max(marker) filter (where measure = 'population') as population_marker
    from figures
    group by area_code
),

final as (
    select
        a.area_code,
        a.area_name,
        a.area_kind,
        p.* exclude (area_code)
    from areas as a
    inner join picked as p on a.area_code = p.area_code
)

select * from final
order by area_kind desc, area_name
