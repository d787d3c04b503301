-- one row: a record id an import would load that the data folder already holds in a month
-- the import does not replace (for that record's force), with the first such month
with incoming as (
    select distinct record_id from import_incoming
),

replaced as (
    select distinct month_start, force from import_incoming
),

held as (
    select r.record_id, r.month_start, r.force
    from records as r
    inner join incoming as i on r.record_id = i.record_id
),

final as (
    select
        h.record_id,
        min(h.month_start) as held_month
    from held as h
    left join replaced as p on h.month_start = p.month_start and h.force = p.force
    where p.month_start is null
    group by h.record_id
)

select * from final
order by record_id
