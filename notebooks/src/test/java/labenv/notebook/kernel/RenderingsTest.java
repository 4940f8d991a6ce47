package labenv.notebook.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import io.github.spencerpark.jupyter.kernel.display.Renderer;
import io.github.spencerpark.jupyter.kernel.display.mime.MIMEType;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.plotly.api.ScatterPlot;

class RenderingsTest {
  private static DisplayData render(Object value) {
    Renderer renderer = new Renderer();
    Renderings.register(renderer);
    return renderer.render(value);
  }

  @Test
  void aShortTableIsShownWholeWithEscapedCells() {
    Table table = Table.create("a&b", StringColumn.create("name", "<script>", "O'Hara"), IntColumn.create("n", 1, 2));
    String html = Renderings.tableHtml(table);
    assertTrue(html.contains("<caption>a&amp;b</caption>"), html);
    assertTrue(html.contains("<th title=\"INTEGER\">n</th>"), html);
    assertTrue(html.contains("<tr><th>0</th><td>&lt;script&gt;</td><td>1</td></tr>"), html);
    assertTrue(html.contains("<td>O&#39;Hara</td>"), html);
    assertTrue(html.contains("<p>2 rows \u00d7 2 columns</p>"), html);
  }

  @Test
  void aLongTableShowsItsFirstAndLastRows() {
    int rows = Renderings.MAX_ROWS + 1;
    Table table = Table.create("long", IntColumn.create("i", IntStream.range(0, rows).toArray()));
    String html = Renderings.tableHtml(table);
    assertTrue(html.contains("<tr><th>9</th><td>9</td></tr>\n<tr><th>...</th><td>...</td></tr>\n"
        + "<tr><th>51</th><td>51</td></tr>"), html);
    assertFalse(html.contains("<td>10</td>"), html);
    assertTrue(html.contains(rows + " rows \u00d7 1 column"), html);
    assertTrue(Renderings.tableText(table).contains("..."), Renderings.tableText(table));
  }

  @Test
  void tablesColumnsAndFiguresGetHtmlAndText() {
    Table table = Table.create("t", IntColumn.create("n", 3, 4));
    DisplayData tableData = render(table);
    assertEquals(Renderings.tableHtml(table), tableData.getData(MIMEType.TEXT_HTML));
    assertEquals(table.printAll(), tableData.getData(MIMEType.TEXT_PLAIN));

    DisplayData columnData = render(table.intColumn("n"));
    assertTrue(String.valueOf(columnData.getData(MIMEType.TEXT_HTML)).contains("<th title=\"INTEGER\">n</th>"));

    DisplayData figureData = render(ScatterPlot.create("s", table, "n", "n"));
    String html = String.valueOf(figureData.getData(MIMEType.TEXT_HTML));
    assertTrue(html.matches("(?s)<div id=\"(labenv_figure_\\d+_\\d+)\"></div>.*getElementById\\('\\1'\\).*"), html);
    assertTrue(html.contains("Plotly.newPlot("), html);
    assertFalse(html.contains("<script>"), "tablesaw's own script tag is unwrapped: " + html);
    assertEquals("tablesaw plotly Figure (1 trace)", figureData.getData(MIMEType.TEXT_PLAIN));

    assertEquals("42", render(42).getData(MIMEType.TEXT_PLAIN));
    assertFalse(render(42).hasDataForType(MIMEType.TEXT_HTML));
  }
}
