-- one row: one column of a Parquet file, in the file's order
select column_name
from (describe select * from read_parquet($path::varchar))
