--
-- cohort_heatmap_svg: a well-formed, self-contained SVG document with one cell per
-- cohort_table row, labels, a legend, and escaped text.
--
SET search_path = retention, public;

CREATE TEMP TABLE hm_acts (a customer_activity);
INSERT INTO hm_acts VALUES
  ('2024-01|05|1:11.77,2:24'), ('2024-02|01|2:5.5001'), ('2024-01|11|1:100000.25,1:1'), ('2024-03|03|1:3,1:4');
CREATE TEMP TABLE hm AS
SELECT cohort_agg(a) AS cs,
       cohort_heatmap_svg(cohort_agg(a)) AS svg_on,
       cohort_heatmap_svg(cohort_agg(a), 'on_or_after', 'Cohorts <Q1> & "friends"') AS svg_after
FROM hm_acts;

SELECT xml_is_well_formed_document(svg_on) AS on_well_formed,
       xml_is_well_formed_document(svg_after) AS after_well_formed
FROM hm;

-- the root is an SVG element in the SVG namespace, with a size
SELECT (xpath('name(/*)', svg_on::xml))[1]::text AS root,
       (xpath('namespace-uri(/*)', svg_on::xml))[1]::text AS namespace,
       (xpath('/s:svg/@width', svg_on::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text AS width,
       (xpath('/s:svg/@height', svg_on::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text AS height
FROM hm;

-- one cell (a group with a tooltip, a rectangle and a label) per cohort_table row
SELECT (SELECT count(*) FROM cohort_table(cs)) AS table_rows,
       array_length(xpath('//s:g', svg_on::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]), 1) AS cells,
       array_length(xpath('//s:g/s:rect', svg_on::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]), 1) AS rects
FROM hm;

-- labels: cohorts, sizes, percentages (on vs on or after), tooltips, title escaped and read back
SELECT unnest(xpath('//s:g/s:text/text()', svg_on::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))::text AS on_labels
FROM hm;
SELECT unnest(xpath('//s:g/s:text/text()', svg_after::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))::text AS after_labels
FROM hm;
SELECT (xpath('//s:g/s:title/text()', svg_on::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[3]::text AS tooltip,
       (xpath('/s:svg/s:text[1]/text()', svg_on::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text AS default_title,
       (xpath('/s:svg/s:text[1]/text()', svg_after::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text AS given_title,
       svg_after LIKE '%Cohorts &lt;Q1&gt; &amp; &quot;friends&quot;%' AS escaped
FROM hm;
-- self-contained: no external references
SELECT svg_on ~ '(href|@import|url\((?!#))' AS external_refs FROM hm;

-- bad arguments, NULL state
SELECT cohort_heatmap_svg(cs, 'sideways') FROM hm;
SELECT cohort_heatmap_svg(NULL) IS NULL AS null_state;
SELECT cohort_heatmap_svg(cohort_agg(a)) FROM (SELECT activity_agg(customer_period(d, 'day')) a
                                               FROM (VALUES ('2024-01-01'::date), ('2025-06-01')) v(d)) s;
