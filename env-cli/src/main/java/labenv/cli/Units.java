package labenv.cli;

import java.time.Duration;
import java.time.Instant;

/** Human-readable sizes and ages, as docker prints them. */
final class Units {
  private Units() {}

  static String bytes(long n) {
    if (n < 1000) {
      return n + "B";
    }
    String[] units = {"kB", "MB", "GB", "TB", "PB"};
    double v = n;
    int u = -1;
    while (v >= 1000 && u < units.length - 1) {
      v /= 1000;
      u++;
    }
    return (v < 10 ? String.format("%.2f", v) : v < 100 ? String.format("%.1f", v) : String.format("%.0f", v))
        + units[u];
  }

  /** "3 days ago", "56 years ago" (an image built with SOURCE_DATE_EPOCH=0 is that old, honestly). */
  static String ago(Instant then, Instant now) {
    if (then == null) {
      return "N/A";
    }
    Duration d = Duration.between(then, now);
    long s = d.getSeconds();
    if (s < 0) {
      return "in the future";
    }
    if (s < 60) {
      return s <= 1 ? "1 second ago" : s + " seconds ago";
    }
    long m = s / 60;
    if (m < 60) {
      return m == 1 ? "1 minute ago" : m + " minutes ago";
    }
    long h = m / 60;
    if (h < 48) {
      return h == 1 ? "1 hour ago" : h + " hours ago";
    }
    long days = h / 24;
    if (days < 14) {
      return days + " days ago";
    }
    if (days < 60) {
      return days / 7 + " weeks ago";
    }
    if (days < 730) {
      return days / 30 + " months ago";
    }
    return days / 365 + " years ago";
  }
}
