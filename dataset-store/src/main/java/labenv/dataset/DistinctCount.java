package labenv.dataset;

import com.google.common.hash.HashFunction;
import com.google.common.hash.Hashing;
import it.unimi.dsi.fastutil.longs.LongIterator;
import it.unimi.dsi.fastutil.longs.LongOpenHashSet;

/**
 * Distinct values of one column in bounded memory: exact (a set of 64-bit hashes of the values, about 20 bytes
 * a value) up to a limit, at most {@link #EXACT_LIMIT} values and less in wide tables (see {@link #limit}), then a HyperLogLog estimate (2^14 registers: about 0.8% standard error) in 16 KiB.
 * 64-bit hashes make the exact count off only on a hash collision: about one chance in 10^9 at the limit.
 */
final class DistinctCount {
  static final int EXACT_LIMIT = 100_000;
  /** Exact values kept over all the columns of a table: about 40 MiB of sets. */
  private static final int TABLE_LIMIT = 2_000_000;
  private static final int PRECISION = 14;
  private static final int REGISTERS = 1 << PRECISION;
  private static final HashFunction HASH = Hashing.farmHashFingerprint64();

  private final int exactLimit;
  private LongOpenHashSet exact = new LongOpenHashSet();
  private byte[] registers;

  DistinctCount(int exactLimit) {
    this.exactLimit = exactLimit;
  }

  /** The exact limit per column in a table of {@code columns} columns. */
  static int limit(int columns) {
    return Math.max(1_000, Math.min(EXACT_LIMIT, TABLE_LIMIT / Math.max(columns, 1)));
  }

  void add(String value) {
    long hash = HASH.hashUnencodedChars(value).asLong();
    if (exact != null) {
      exact.add(hash);
      if (exact.size() > exactLimit) {
        registers = new byte[REGISTERS];
        for (LongIterator it = exact.iterator(); it.hasNext(); ) {
          estimate(it.nextLong());
        }
        exact = null;
      }
    } else {
      estimate(hash);
    }
  }

  boolean exact() {
    return exact != null;
  }

  long count() {
    if (exact != null) {
      return exact.size();
    }
    double sum = 0;
    int zeros = 0;
    for (byte r : registers) {
      sum += 1.0 / (1L << r);
      if (r == 0) {
        zeros++;
      }
    }
    double alpha = 0.7213 / (1 + 1.079 / REGISTERS);
    double raw = alpha * REGISTERS * REGISTERS / sum;
    // Linear counting is the better estimate while many registers are still empty.
    double value = raw <= 2.5 * REGISTERS && zeros > 0 ? REGISTERS * Math.log((double) REGISTERS / zeros) : raw;
    return Math.round(value);
  }

  private void estimate(long hash) {
    int register = (int) (hash >>> (64 - PRECISION));
    int rank = Long.numberOfLeadingZeros((hash << PRECISION) | (1L << (PRECISION - 1))) + 1;
    if (rank > registers[register]) {
      registers[register] = (byte) rank;
    }
  }
}
