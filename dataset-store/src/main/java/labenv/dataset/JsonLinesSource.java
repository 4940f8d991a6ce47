package labenv.dataset;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import labenv.LabenvException;

/**
 * JSON lines: one object per line, its keys the columns (in order of first appearance; a key absent from a
 * row is a missing cell). Scalars become their text, so type detection is the same as for CSV; nested
 * objects and arrays stay as their JSON text.
 */
final class JsonLinesSource implements TableSource {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;
  private final BufferedReader reader;
  private final List<String> columns = new ArrayList<>();
  private final List<String> columnsView = Collections.unmodifiableList(columns);
  private final Map<String, Integer> index = new HashMap<>();
  private long line;

  JsonLinesSource(Path file, BufferedReader reader) {
    this.file = file;
    this.reader = reader;
  }

  @Override
  public List<String> columns() {
    return columnsView;
  }

  @Override
  public String[] next() {
    String text;
    do {
      try {
        text = reader.readLine();
      } catch (IOException e) {
        throw TableSource.readFailure(file, line + 1, e);
      }
      if (text == null) {
        return null;
      }
      line++;
    } while (text.isBlank());
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw LabenvException.badInput(file + " line " + line + ": not JSON (" + e.getOriginalMessage() + ")");
    }
    if (!node.isObject()) {
      throw LabenvException.badInput(file + " line " + line + ": a JSON " + node.getNodeType().name().toLowerCase()
          + " where JSON lines need one object per line");
    }
    String[] cells = new String[columns.size() + node.size()];
    int width = 0;
    for (Iterator<Map.Entry<String, JsonNode>> fields = node.fields(); fields.hasNext(); ) {
      Map.Entry<String, JsonNode> field = fields.next();
      Integer at = index.get(field.getKey());
      if (at == null) {
        at = columns.size();
        columns.add(field.getKey());
        index.put(field.getKey(), at);
      }
      cells[at] = cell(field.getValue());
      width = Math.max(width, at + 1);
    }
    return width == cells.length ? cells : Arrays.copyOf(cells, width);
  }

  private static String cell(JsonNode value) {
    if (value.isNull() || value.isMissingNode()) {
      return null;
    }
    return value.isValueNode() ? value.asText() : value.toString();
  }

  @Override
  public long line() {
    return line;
  }

  @Override
  public void close() {
    try {
      reader.close();
    } catch (IOException e) {
      // Only ever read from: nothing to lose.
    }
  }
}
