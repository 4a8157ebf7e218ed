/*-------------------------------------------------------------------------
 *
 * heatmap.c
 *	  cohort_heatmap_svg(state, mode, title): the classic triangular cohort
 *	  retention heatmap as a self-contained SVG document.
 *
 * One row per cohort (labelled with the cohort and its size), one column per
 * age; each cell shows the retention share as a percentage, coloured on a
 * light-to-dark blue scale from 0 to the largest share at ages >= 1 (age 0 is
 * 100% by definition and drawn in grey, so that it does not flatten the
 * scale). A legend shows the scale; every cell carries a <title> tooltip
 * with its counts. Text is XML-escaped, so the result is well-formed XML.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "cohort.h"
#include "svg.h"

#define HM_CELL_W		46		/* cell width, px */
#define HM_CELL_H		22		/* cell height, px */
#define HM_LEFT			150		/* room for the cohort and size labels */
#define HM_TOP			64		/* room for the title and the age header */
#define HM_LEGEND_H		56		/* room for the legend below the grid */
#define HM_MAX_COLUMNS	400		/* widest heatmap drawn */

/* the colour scale: ColorBrewer "Blues", light to dark */
static const int hm_stops[][3] = {
	{247, 251, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}
};

/*
 * Append s to buf with the five XML special characters escaped.
 */
void
AppendXmlEscaped(StringInfo buf, const char *s)
{
	for (; *s; s++)
	{
		switch (*s)
		{
			case '&':
				appendStringInfoString(buf, "&amp;");
				break;
			case '<':
				appendStringInfoString(buf, "&lt;");
				break;
			case '>':
				appendStringInfoString(buf, "&gt;");
				break;
			case '"':
				appendStringInfoString(buf, "&quot;");
				break;
			case '\'':
				appendStringInfoString(buf, "&apos;");
				break;
			default:
				appendStringInfoChar(buf, *s);
		}
	}
}

/*
 * The fill colour for share x in [0, 1] of the scale, as #rrggbb into out[8];
 * returns whether the colour is dark (so that text on it should be white).
 */
static bool
ScaleColor(double x, char *out)
{
	int			nstops = lengthof(hm_stops);
	double		pos = Max(0.0, Min(1.0, x)) * (nstops - 1);
	int			i = Min((int) pos, nstops - 2);
	double		f = pos - i;
	int			rgb[3];
	int			c;

	for (c = 0; c < 3; c++)
		rgb[c] = (int) (hm_stops[i][c] + f * (hm_stops[i + 1][c] - hm_stops[i][c]) + 0.5);
	snprintf(out, 8, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
	return (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]) < 140;
}

/*
 * A percentage for a cell label: one decimal below 10%, none above or at zero.
 */
static void
AppendPercent(StringInfo buf, double pct)
{
	if (pct == 0.0)
		appendStringInfoString(buf, "0%");
	else if (pct < 9.95)
		appendStringInfo(buf, "%.1f%%", pct);
	else
		appendStringInfo(buf, "%.0f%%", pct);
}

PG_FUNCTION_INFO_V1(cohort_heatmap_svg);

/*
 * cohort_heatmap_svg(state, mode, title): see the file header. mode is 'on'
 * or 'on_or_after' as in cohort_table; title NULL gives a default title.
 */
Datum
cohort_heatmap_svg(PG_FUNCTION_ARGS)
{
	TriState   *t;
	bool		on_or_after;
	char	   *unitname;
	int			ncohorts = 0;
	int			ncols;
	double		maxshare = 0.0;
	int			width,
				height;
	int			r,
				s,
				row;
	StringInfoData svg;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	t = PG_GETARG_TRI(0);
	TriCheckKind(t, TRI_COHORT);
	t = TriTrim(t);
	on_or_after = PG_ARGISNULL(1) ? false : CohortModeOnOrAfter(PG_GETARG_TEXT_PP(1));
	unitname = PeriodUnitName(t->unit);
	ncols = t->nperiods;
	if (ncols > HM_MAX_COLUMNS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cohort heatmap would have %d columns, more than %d", ncols, HM_MAX_COLUMNS),
				 errhint("Aggregate with a coarser period kind, or fewer periods.")));

	/* the colour scale's top: the largest share at ages >= 1 */
	for (r = 0; r < t->nperiods; r++)
	{
		int64		size = TRI_CELL(t, r, 0)[0];
		int64		later = size;

		if (size == 0)
			continue;
		ncohorts++;
		for (s = 0; s < t->nperiods - r; s++)
		{
			int64		n = CohortCount(t, r, s, on_or_after, &later);

			if (s > 0)
				maxshare = Max(maxshare, (double) n / size);
		}
	}
	if (maxshare <= 0.0)
		maxshare = 1.0;

	width = HM_LEFT + ncols * HM_CELL_W + 20;
	height = HM_TOP + ncohorts * HM_CELL_H + HM_LEGEND_H;

	initStringInfo(&svg);
	appendStringInfo(&svg,
					 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
					 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
					 "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">\n"
					 "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
					 width, height, width, height, width, height);
	appendStringInfoString(&svg, "<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">");
	if (PG_ARGISNULL(2))
		appendStringInfo(&svg, "Customer retention by %s cohort (%s)", unitname,
						 on_or_after ? "active in or after the period" : "active in the period");
	else
		AppendXmlEscaped(&svg, text_to_cstring(PG_GETARG_TEXT_PP(2)));
	appendStringInfoString(&svg, "</text>\n");

	/* header: cohort, size, and the ages */
	appendStringInfo(&svg, "<text x=\"10\" y=\"%d\" font-weight=\"bold\">cohort</text>\n", HM_TOP - 8);
	appendStringInfo(&svg, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\" text-anchor=\"end\">customers</text>\n",
					 HM_LEFT - 8, HM_TOP - 8);
	appendStringInfo(&svg, "<text x=\"%d\" y=\"%d\" fill=\"#555555\">%ss since the first active %s</text>\n",
					 HM_LEFT, HM_TOP - 26, unitname, unitname);
	for (s = 0; s < ncols; s++)
		appendStringInfo(&svg, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-weight=\"bold\">%d</text>\n",
						 HM_LEFT + s * HM_CELL_W + HM_CELL_W / 2, HM_TOP - 8, s);

	row = 0;
	for (r = 0; r < t->nperiods; r++)
	{
		int64		size = TRI_CELL(t, r, 0)[0];
		int64		later = size;
		char	   *cohort;
		int			y = HM_TOP + row * HM_CELL_H;

		if (size == 0)
			continue;
		CHECK_FOR_INTERRUPTS();
		cohort = PeriodToCString(PERIOD_MAKE(t->unit, t->base + r));
		appendStringInfo(&svg, "<text x=\"10\" y=\"%d\">", y + 15);
		AppendXmlEscaped(&svg, cohort);
		appendStringInfo(&svg, "</text>\n<text x=\"%d\" y=\"%d\" text-anchor=\"end\">" INT64_FORMAT "</text>\n",
						 HM_LEFT - 8, y + 15, size);
		for (s = 0; s < t->nperiods - r; s++)
		{
			int64		n = CohortCount(t, r, s, on_or_after, &later);
			double		share = (double) n / size;
			char		color[8];
			bool		dark;
			int			x = HM_LEFT + s * HM_CELL_W;

			if (s == 0)
			{
				strcpy(color, "#d9d9d9");
				dark = false;
			}
			else
				dark = ScaleColor(share / maxshare, color);
			appendStringInfo(&svg, "<g><title>");
			AppendXmlEscaped(&svg, cohort);
			appendStringInfo(&svg, ", %s %d: " INT64_FORMAT " of " INT64_FORMAT " customers (%.2f%%)</title>"
							 "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" stroke=\"#ffffff\"/>"
							 "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"10\" fill=\"%s\">",
							 unitname, s, n, size, 100.0 * share,
							 x, y, HM_CELL_W, HM_CELL_H, color,
							 x + HM_CELL_W / 2, y + 15, dark ? "#ffffff" : "#222222");
			AppendPercent(&svg, 100.0 * share);
			appendStringInfoString(&svg, "</text></g>\n");
		}
		row++;
	}

	/* legend: the colour scale from 0 to its top */
	{
		int			ly = HM_TOP + ncohorts * HM_CELL_H + 22;
		int			i;

		appendStringInfoString(&svg, "<defs><linearGradient id=\"scale\" x1=\"0\" x2=\"1\" y1=\"0\" y2=\"0\">");
		for (i = 0; i < (int) lengthof(hm_stops); i++)
			appendStringInfo(&svg, "<stop offset=\"%d%%\" stop-color=\"#%02x%02x%02x\"/>",
							 i * 100 / ((int) lengthof(hm_stops) - 1),
							 hm_stops[i][0], hm_stops[i][1], hm_stops[i][2]);
		appendStringInfoString(&svg, "</linearGradient></defs>\n");
		appendStringInfo(&svg, "<text x=\"10\" y=\"%d\">retention</text>\n", ly + 12);
		appendStringInfo(&svg, "<rect x=\"%d\" y=\"%d\" width=\"200\" height=\"14\" fill=\"url(#scale)\" stroke=\"#999999\"/>\n",
						 HM_LEFT, ly);
		appendStringInfo(&svg, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">0%%</text>\n", HM_LEFT, ly + 28);
		appendStringInfo(&svg, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", HM_LEFT + 200, ly + 28);
		AppendPercent(&svg, 100.0 * maxshare);
		appendStringInfoString(&svg, "</text>\n");
		appendStringInfo(&svg, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"#d9d9d9\"/>"
						 "<text x=\"%d\" y=\"%d\">age 0 (100%% by definition)</text>\n",
						 HM_LEFT + 230, ly, HM_LEFT + 250, ly + 12);
	}
	appendStringInfoString(&svg, "</svg>\n");
	PG_RETURN_TEXT_P(cstring_to_text(svg.data));
}
