package labenv.notebook.kernel;

import io.github.spencerpark.jupyter.kernel.display.Renderer;
import io.github.spencerpark.jupyter.kernel.display.mime.MIMEType;
import java.util.concurrent.atomic.AtomicLong;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;
import tech.tablesaw.plotly.components.Figure;

/**
 * How tablesaw values look in a notebook: tables and columns as HTML tables (with tablesaw's own text beside, for
 * consoles and diffs), plotly figures as plots. Registered on the basekernel's {@link Renderer}, which adds
 * text/plain for everything else.
 */
final class Renderings {
  /** Tables up to this many rows are shown whole; longer ones as their first and last {@link #EDGE} rows. */
  static final int MAX_ROWS = 60;

  static final int EDGE = 10;

  /**
   * plotly.js for figures, from its CDN: a notebook is read in a browser, which has the network the kernel's
   * container may not. The 2.x line reads what tablesaw's figures write.
   */
  static final String PLOTLY_JS = "https://cdn.plot.ly/plotly-2.35.2.min";

  private static final AtomicLong FIGURES = new AtomicLong();

  private Renderings() {}

  static void register(Renderer renderer) {
    renderer.createRegistration(Table.class).preferring(MIMEType.TEXT_HTML).supporting(MIMEType.TEXT_PLAIN)
        .register((table, context) -> {
          context.renderIfRequested(MIMEType.TEXT_HTML, () -> tableHtml(table));
          context.renderIfRequested(MIMEType.TEXT_PLAIN, () -> tableText(table));
        });
    renderer.createRegistration(Column.class).preferring(MIMEType.TEXT_HTML).supporting(MIMEType.TEXT_PLAIN)
        .register((column, context) -> {
          Table table = Table.create(column.name(), column);
          context.renderIfRequested(MIMEType.TEXT_HTML, () -> tableHtml(table));
          context.renderIfRequested(MIMEType.TEXT_PLAIN, () -> tableText(table));
        });
    renderer.createRegistration(Figure.class).preferring(MIMEType.TEXT_HTML).supporting(MIMEType.TEXT_PLAIN)
        .register((figure, context) -> {
          // tablesaw makes a JavaScript variable of the div's id: letters, digits and underscores only.
          context.renderIfRequested(MIMEType.TEXT_HTML, () -> figureHtml(figure, "labenv_figure_"
              + ProcessHandle.current().pid() + "_" + FIGURES.incrementAndGet()));
          context.renderIfRequested(MIMEType.TEXT_PLAIN, () -> "tablesaw plotly Figure ("
              + figure.getTraces().length + (figure.getTraces().length == 1 ? " trace)" : " traces)"));
        });
  }

  /** tablesaw's own text of the table: whole if short, its first and last rows if long. */
  static String tableText(Table table) {
    return table.rowCount() <= MAX_ROWS ? table.printAll() : table.print(2 * EDGE);
  }

  /**
   * An HTML table in the shape of pandas' (class "dataframe", so JupyterLab styles it the same): row numbers, column
   * names with their types as tooltips, then a line with the size.
   */
  static String tableHtml(Table table) {
    StringBuilder html = new StringBuilder(256);
    html.append("<div>\n<table border=\"1\" class=\"dataframe\">\n");
    if (!table.name().isEmpty()) {
      html.append("<caption>").append(escape(table.name())).append("</caption>\n");
    }
    html.append("<thead><tr style=\"text-align: right;\"><th></th>");
    for (Column<?> column : table.columns()) {
      html.append("<th title=\"").append(escape(column.type().name())).append("\">").append(escape(column.name()))
          .append("</th>");
    }
    html.append("</tr></thead>\n<tbody>\n");
    int rows = table.rowCount();
    if (rows <= MAX_ROWS) {
      rows(table, 0, rows, html);
    } else {
      rows(table, 0, EDGE, html);
      html.append("<tr><th>...</th>");
      html.append("<td>...</td>".repeat(table.columnCount()));
      html.append("</tr>\n");
      rows(table, rows - EDGE, rows, html);
    }
    html.append("</tbody>\n</table>\n<p>").append(rows).append(rows == 1 ? " row" : " rows").append(" \u00d7 ")
        .append(table.columnCount()).append(table.columnCount() == 1 ? " column" : " columns").append("</p>\n</div>");
    return html.toString();
  }

  private static void rows(Table table, int from, int to, StringBuilder html) {
    for (int row = from; row < to; row++) {
      html.append("<tr><th>").append(row).append("</th>");
      for (Column<?> column : table.columns()) {
        html.append("<td>").append(escape(column.getString(row))).append("</td>");
      }
      html.append("</tr>\n");
    }
  }

  /**
   * The figure's plotly script, run once plotly.js is there: already on the page, through require.js (the classic
   * Notebook has it, and plotly then registers as a module instead of a global), or from a script tag.
   */
  static String figureHtml(Figure figure, String divId) {
    String script = figure.asJavascript(divId).strip();
    // asJavascript gives a <script> element; its body goes into the loader below.
    script = script.replaceFirst("^<script[^>]*>", "").replaceFirst("</script>$", "");
    return "<div id=\"" + divId + "\"></div>\n"
        + "<script type=\"text/javascript\">\n"
        + "(function () {\n"
        + "  var draw = function (Plotly) {\n" + script + "\n  };\n"
        + "  if (window.Plotly) { draw(window.Plotly); return; }\n"
        + "  if (typeof window.requirejs === 'function') {\n"
        + "    window.requirejs.config({paths: {plotly: '" + PLOTLY_JS + "'}});\n"
        + "    window.requirejs(['plotly'], function (Plotly) { window.Plotly = Plotly; draw(Plotly); });\n"
        + "    return;\n"
        + "  }\n"
        + "  var tag = document.createElement('script');\n"
        + "  tag.src = '" + PLOTLY_JS + ".js';\n"
        + "  tag.onload = function () { draw(window.Plotly); };\n"
        + "  document.head.appendChild(tag);\n"
        + "})();\n"
        + "</script>";
  }

  static String escape(String text) {
    StringBuilder out = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '&' -> out.append("&amp;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }
}
