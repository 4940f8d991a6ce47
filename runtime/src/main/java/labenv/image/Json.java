package labenv.image;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import labenv.LabenvException;

/**
 * The one JSON mapper. Serialised form is canonical wherever a digest depends on it: record
 * components in declaration order (fixed per type), map keys sorted, no insignificant whitespace.
 */
public final class Json {
  private Json() {}

  private static final ObjectMapper MAPPER = JsonMapper.builder()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
      .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true)
      .configure(SerializationFeature.FAIL_ON_EMPTY_BEANS, false)
      .serializationInclusion(JsonInclude.Include.NON_NULL)
      .build();

  public static ObjectMapper mapper() {
    return MAPPER;
  }

  /** Canonical bytes: what gets hashed and stored. */
  public static byte[] canonical(Object value) {
    try {
      return MAPPER.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
    }
  }

  /** Indented text for people (inspect output); never hashed. */
  public static String pretty(Object value) {
    try {
      return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
    }
  }

  /**
   * Parses {@code bytes} as {@code type}. Broken JSON is bad input: the message names {@code what}
   * (for example {@code "manifest sha256:ab12…"}) and the parser's line and column.
   */
  public static <T> T parse(byte[] bytes, Class<T> type, String what) {
    try {
      T value = MAPPER.readValue(bytes, type);
      if (value == null) {
        throw LabenvException.badInput(what + ": empty JSON document");
      }
      return value;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw LabenvException.badInput(what + ": invalid JSON: " + oneLine(e));
    } catch (IOException e) {
      throw LabenvException.failed(what + ": " + e.getMessage(), e);
    }
  }

  public static JsonNode tree(byte[] bytes, String what) {
    return parse(bytes, JsonNode.class, what);
  }

  private static String oneLine(JsonProcessingException e) {
    String msg = e.getOriginalMessage();
    int nl = msg.indexOf('\n');
    if (nl >= 0) {
      msg = msg.substring(0, nl);
    }
    var loc = e.getLocation();
    return loc == null ? msg : msg + " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
  }
}
