import static tech.tablesaw.aggregate.AggregateFunctions.count;
import static tech.tablesaw.aggregate.AggregateFunctions.mean;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.NumericColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Penguin measurements: the mean of each measure by species and sex (results/summary.csv, with tablesaw) and body
 * mass against flipper length (results/plot.png, drawn with java.awt into an image: no display needed).
 */
public class Analysis {
  static final Path DATA = Path.of("data/penguins.csv");
  static final Path RESULTS = Path.of("results");
  static final List<String> MEASURES = List.of("bill_length_mm", "bill_depth_mm", "flipper_length_mm",
      "body_mass_g");
  // One font, loaded from its file: the plot's text then does not depend on which fonts fontconfig would pick.
  static final String FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  // matplotlib's first three colours, so the plot looks like the python-pandas template's.
  static final Color[] COLOURS = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c)};

  public static void main(String[] args) throws Exception {
    System.setProperty("java.awt.headless", "true");
    Table penguins = Table.read().csv(DATA.toString());
    Files.createDirectories(RESULTS);
    Table summary = summarize(penguins);
    summary.write().csv(RESULTS.resolve("summary.csv").toString());
    plot(penguins, RESULTS.resolve("plot.png"));
    System.out.println(penguins.rowCount() + " penguins, " + summary.rowCount() + " groups");
    System.out.println(summary.printAll());
  }

  /** Count and means by species and sex, sorted; the means written with two decimals, as text. */
  static Table summarize(Table penguins) {
    Table groups = penguins.summarize(MEASURES, count, mean).by("species", "sex")
        .sortAscendingOn("species", "sex");
    NumericColumn<?> counts = groups.numberColumn("Count [" + MEASURES.get(0) + "]");
    IntColumn n = IntColumn.create("n");
    for (int i = 0; i < counts.size(); i++) {
      n.append((int) counts.getDouble(i));
    }
    Table out = Table.create("summary", groups.stringColumn("species").copy(), groups.stringColumn("sex").copy(), n);
    for (String m : MEASURES) {
      NumericColumn<?> means = groups.numberColumn("Mean [" + m + "]");
      StringColumn text = StringColumn.create(m);
      for (int i = 0; i < means.size(); i++) {
        text.append(String.format(Locale.ROOT, "%.2f", means.getDouble(i)));
      }
      out.addColumns(text);
    }
    return out;
  }

  /** A scatter plot, drawn pixel by pixel the same way on every run: same font, same hints, PNG without dates. */
  static void plot(Table penguins, Path file) throws Exception {
    int width = 640;
    int height = 480;
    int left = 80;
    int right = 20;
    int top = 40;
    int bottom = 60;
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_OFF);
    g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
    Font font = Font.createFont(Font.TRUETYPE_FONT, new File(FONT)).deriveFont(12f);
    g.setFont(font);
    FontMetrics fm = g.getFontMetrics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, width, height);

    NumericColumn<?> xs = penguins.numberColumn("flipper_length_mm");
    NumericColumn<?> ys = penguins.numberColumn("body_mass_g");
    Axis x = Axis.of(xs.min(), xs.max(), left, width - right);
    Axis y = Axis.of(ys.min(), ys.max(), height - bottom, top);

    g.setColor(Color.BLACK);
    g.setStroke(new BasicStroke(1f));
    g.drawRect(left, top, width - left - right, height - top - bottom);
    for (double t = x.first(); t <= x.hi(); t += x.step()) {
      int px = (int) Math.round(x.pixel(t));
      g.drawLine(px, height - bottom, px, height - bottom + 5);
      String label = String.format(Locale.ROOT, "%.0f", t);
      g.drawString(label, px - fm.stringWidth(label) / 2, height - bottom + 8 + fm.getAscent());
    }
    for (double t = y.first(); t <= y.hi(); t += y.step()) {
      int py = (int) Math.round(y.pixel(t));
      g.drawLine(left - 5, py, left, py);
      String label = String.format(Locale.ROOT, "%.0f", t);
      g.drawString(label, left - 8 - fm.stringWidth(label), py + fm.getAscent() / 2 - 1);
    }
    String xLabel = "flipper length (mm)";
    g.drawString(xLabel, left + (width - left - right - fm.stringWidth(xLabel)) / 2, height - 14);
    String yLabel = "body mass (g)";
    AffineTransform saved = g.getTransform();
    g.rotate(-Math.PI / 2);
    g.drawString(yLabel, -(top + (height - top - bottom + fm.stringWidth(yLabel)) / 2), 20);
    g.setTransform(saved);
    g.setFont(font.deriveFont(14f));
    String title = "Penguins: body mass against flipper length";
    g.drawString(title, (width - g.getFontMetrics().stringWidth(title)) / 2, top - 14);
    g.setFont(font);

    List<String> species = penguins.stringColumn("species").unique().asList().stream().sorted().toList();
    StringColumn kinds = penguins.stringColumn("species");
    for (int s = 0; s < species.size(); s++) {
      Color c = COLOURS[s % COLOURS.length];
      g.setColor(new Color(c.getRed(), c.getGreen(), c.getBlue(), 204));
      for (int i = 0; i < penguins.rowCount(); i++) {
        if (kinds.get(i).equals(species.get(s))) {
          g.fill(new Ellipse2D.Double(x.pixel(xs.getDouble(i)) - 2.5, y.pixel(ys.getDouble(i)) - 2.5, 5, 5));
        }
      }
      int ly = top + 16 + 18 * s;
      g.setColor(c);
      g.fill(new Ellipse2D.Double(left + 14, ly - 7, 7, 7));
      g.setColor(Color.BLACK);
      g.drawString(species.get(s), left + 28, ly);
    }
    g.dispose();
    // ImageIO's PNG writer adds no time or software chunks: the bytes depend on the pixels only.
    if (!ImageIO.write(image, "png", file.toFile())) {
      throw new IllegalStateException("no PNG writer");
    }
  }

  /** A linear axis from data values to pixels, with ticks at round numbers and a margin of a twentieth. */
  record Axis(double lo, double hi, double step, double from, double to) {
    static Axis of(double min, double max, double from, double to) {
      double pad = (max - min) / 20;
      double lo = min - pad;
      double hi = max + pad;
      double raw = (hi - lo) / 6;
      double pow = Math.pow(10, Math.floor(Math.log10(raw)));
      double step = raw / pow < 1.5 ? pow : raw / pow < 3.5 ? 2 * pow : raw / pow < 7.5 ? 5 * pow : 10 * pow;
      return new Axis(lo, hi, step, from, to);
    }

    double first() {
      return Math.ceil(lo / step) * step;
    }

    double pixel(double v) {
      return from + (v - lo) / (hi - lo) * (to - from);
    }
  }
}
