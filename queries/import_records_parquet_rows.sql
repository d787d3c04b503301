-- one row: one row of a Parquet file, its values as text in the order of the columns named,
-- and the whole row as JSON for the quarantine
with source as (
    select * from read_parquet($path::varchar, file_row_number = true)
),

as_json as (
    select
        file_row_number,
        -- file_row_number is the last key; drop it so the line shows only the file's values
        regexp_replace(to_json(source)::varchar, ',"file_row_number":[0-9]+}$', '}') as line
    from source
),

final as (
    select
        file_row_number + 1 as line_number,
        line,
        false as is_blank,
        true as is_well_quoted,
        json_extract_string(
            line, list_transform($columns::varchar[], lambda c: '$."' || c || '"')
        ) as fields,
        null::varchar as line_problem
    from as_json
)

select * from final
order by line_number
