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
    } catch (com.fasterxml.jackson.databind.JsonMappingException e) {
      // A value our types refuse (a malformed digest, a number where text belongs): say which field.
      String field = field(e);
      for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
        if (c instanceof LabenvException le) {
          throw LabenvException.badInput(what + ": " + (field.isEmpty() ? "" : field + ": ") + le.getMessage());
        }
      }
      throw LabenvException.badInput(what + ": invalid JSON: " + (field.isEmpty() ? "" : field + ": ") + oneLine(e));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw LabenvException.badInput(what + ": invalid JSON: " + oneLine(e));
    } catch (IOException e) {
      throw LabenvException.failed(what + ": " + e.getMessage(), e);
    }
  }

  public static JsonNode tree(byte[] bytes, String what) {
    return parse(bytes, JsonNode.class, what);
  }

  /** The path of the field a mapping error is about, as {@code manifests[0].digest}. */
  private static String field(com.fasterxml.jackson.databind.JsonMappingException e) {
    StringBuilder sb = new StringBuilder();
    for (var ref : e.getPath()) {
      if (ref.getFieldName() != null) {
        sb.append(sb.length() == 0 ? "" : ".").append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        sb.append('[').append(ref.getIndex()).append(']');
      }
    }
    return sb.toString();
  }

  private static String oneLine(JsonProcessingException e) {
    String msg = e.getOriginalMessage();
    int nl = msg.indexOf('\n');
    if (nl >= 0) {
      msg = msg.substring(0, nl);
    }
    // Jackson appends where in its own terms ("(through reference chain: …)", "at [Source: …]").
    for (String tail : new String[] {" (through reference chain", " at [Source", " (start marker at"}) {
      int i = msg.indexOf(tail);
      if (i > 0) {
        msg = msg.substring(0, i);
      }
    }
    var loc = e.getLocation();
    return loc == null ? msg : msg + " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
  }
}
