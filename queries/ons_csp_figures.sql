-- one row: a Community Safety Partnership (or the force's unassigned offences) and its published figures for one offence group
with figures as (
    select *
    from read_parquet($figures_path::varchar)
    where
        geography = 'csp'
        and force_code = $force_code::varchar
        and area_kind in ('csp', 'unassigned')
),

final as (
    select
        area_code,
        area_name,
        area_kind,
        any_value(la_code) as la_code,
        max(value) filter (
            where measure = 'count' and period_end = $period_end::date
            and offence_group = $offence_group::varchar
        ) as count_offences,
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
        max(value) filter (
            where measure in ('rate_per_1000', 'rate_per_1000_households')
            and offence_group = $offence_group::varchar
            and (measure = 'rate_per_1000_households') = $per_household::boolean
        ) as rate_per_1000,
        max(marker) filter (
            where measure in ('rate_per_1000', 'rate_per_1000_households')
            and offence_group = $offence_group::varchar
            and (measure = 'rate_per_1000_households') = $per_household::boolean
        ) as rate_marker
    from figures
    group by area_code, area_name, area_kind
)

select * from final
order by area_kind, area_name
