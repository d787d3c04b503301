-- one row: one data line (or row) of a delivery tracker, as an action's status in a quarter or
-- with the reason it is set aside
with lines as (
    select
        f.source_file,
        f.unit,
        f.width,
        f.header_fields,
        f.positions,
        l.line_number,
        l.line,
        l.is_well_quoted,
        l.line_problem,
        l.fields,
        len(l.fields) as count_fields
    from delivery_lines as l
    cross join delivery_files as f
    where not l.is_blank and l.line_number > f.header_line_number
),

fields as (
    select
        *,
        coalesce(trim(fields[positions[1]]), '') as action_id,
        coalesce(trim(fields[positions[2]]), '') as strand_text,
        coalesce(trim(fields[positions[3]]), '') as title,
        list_transform(
            [positions[4], positions[5], positions[6]],
            lambda p: coalesce(trim(fields[p]), '')
        ) as month_texts,
        coalesce(trim(fields[positions[7]]), '') as status_text,
        list_transform(fields, lambda v: lower(trim(v))) as normalised
    from lines
),

parsed as (
    select
        *,
        month_texts[1] as target_text,
        month_texts[2] as completed_text,
        month_texts[3] as quarter_text,
        list_transform(
            month_texts,
            lambda t: strftime(
                coalesce(
                    case
                        when regexp_full_match(t, '[0-9][0-9][0-9][0-9]-[0-9][0-9]')
                            then try_cast(t || '-01' as date)
                    end,
                    case
                        when regexp_full_match(
                            t, '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]([ T][0-9:.]+)?'
                        )
                            then try_cast(t as timestamp)::date
                    end
                ),
                '%Y-%m'
            )
        ) as months,
        ($strand_to::varchar[])[
            list_position($strand_from::varchar[], lower(strand_text))
        ] as strand_id,
        ($status_to::varchar[])[list_position($status_from::varchar[], lower(status_text))]
            as status
    from fields
),

checked as (
    select
        *,
        months[1] as target_month,
        nullif(months[2], '') as completed_month,
        months[3] as quarter_end,
        case
            when line_problem is not null then line_problem
            when normalised = header_fields then 'a second header line inside the file'
            when not is_well_quoted then 'an unmatched double quote'
            when count_fields <> width
                then 'wrong number of fields: ' || count_fields || ' where ' || width
                || ' are expected'
            when contains(line, chr(65533)) then $not_utf8_reason::varchar
            when action_id = '' then 'no action id'
            when strand_text = '' then 'no strand'
            when strand_id is null then 'unknown strand ''' || strand_text || ''''
            when title = '' then 'no title'
            when target_text = '' then 'no target month'
            when months[1] is null
                then 'unparseable target month ''' || target_text || ''' (expected YYYY-MM)'
            when completed_text <> '' and months[2] is null
                then 'unparseable completed month ''' || completed_text || ''' (expected YYYY-MM)'
            when quarter_text = '' then 'no quarter end'
            when months[3] is null
                then 'unparseable quarter end ''' || quarter_text || ''' (expected YYYY-MM)'
            when right(months[3], 2) not in ('03', '06', '09', '12')
                then 'quarter end ' || months[3]
                || ' is not the last month of a quarter (March, June, September or December)'
            when status_text = '' then 'no status'
            when status is null
                then 'unknown status ''' || status_text || ''' (expected '
                || array_to_string($status_names::varchar[], ', ') || ')'
        end as problem
    from parsed
),

compared as (
    select
        *,
        case
            when problem is null
                then count(distinct [strand_id, title, target_month, coalesce(completed_month, '')])
                    over (partition by problem is null, action_id)
            else 1
        end as count_versions,
        case
            when problem is null
                then row_number() over (
                    partition by problem is null, action_id, quarter_end order by line_number
                )
            else 1
        end as occurrence,
        first(unit || ' ' || line_number) over (
            partition by problem is null, action_id, quarter_end order by line_number
        ) as first_seen
    from checked
),

final as (
    select
        source_file,
        line_number,
        line,
        coalesce(
            problem,
            case
                when count_versions > 1
                    then 'action ' || action_id
                    || ' has a different strand, title or month on another row'
                when occurrence > 1
                    then 'action ' || action_id || ' already has a status for quarter '
                    || quarter_end || ' (' || first_seen || ')'
            end
        ) as reason,
        action_id,
        strand_id,
        title,
        target_month,
        completed_month,
        quarter_end,
        status
    from compared
)

select * from final
order by line_number
