package dev.telemetry.gateway.processor.enrichment;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable table: key value → attributes to add. Parsed from CSV (first row is the header; the column named like
 * the lookup key holds the key, every other column an attribute) or JSON (an object of key → object of attributes).
 * Parsing is blocking file I/O: done on a worker, never on an event loop.
 */
record LookupTable(Map<String, Map<String, String>> rows) {
  static final LookupTable EMPTY = new LookupTable(Map.of());

  Map<String, String> get(String key) {
    return rows.get(key);
  }

  static LookupTable load(Path file, String keyColumn) throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8);
    return file.getFileName().toString().endsWith(".json") ? json(text, file) : csv(text, keyColumn, file);
  }

  private static LookupTable json(String text, Path file) throws IOException {
    JsonObject o;
    try {
      o = new JsonObject(text);
    } catch (RuntimeException e) {
      throw new IOException(file + ": not a JSON object of key -> attributes: " + e.getMessage());
    }
    Map<String, Map<String, String>> rows = new HashMap<>();
    for (String key : o.fieldNames()) {
      if (!(o.getValue(key) instanceof JsonObject attrs)) {
        throw new IOException(file + ": \"" + key + "\" must map to an object of attributes");
      }
      Map<String, String> row = new LinkedHashMap<>();
      attrs.forEach(e -> row.put(e.getKey(), String.valueOf(e.getValue())));
      rows.put(key, Map.copyOf(row));
    }
    return new LookupTable(Map.copyOf(rows));
  }

  private static LookupTable csv(String text, String keyColumn, Path file) throws IOException {
    List<List<String>> records = parseCsv(text, file);
    if (records.isEmpty()) {
      throw new IOException(file + ": empty (expected a header row naming the column \"" + keyColumn + "\")");
    }
    List<String> header = records.get(0);
    int keyIndex = header.indexOf(keyColumn);
    if (keyIndex < 0) {
      throw new IOException(file + ": the header has no column \"" + keyColumn + "\" (columns: " + header + ")");
    }
    Map<String, Map<String, String>> rows = new HashMap<>();
    for (int r = 1; r < records.size(); r++) {
      List<String> rec = records.get(r);
      if (rec.size() == 1 && rec.get(0).isEmpty()) {
        continue; // blank line
      }
      if (rec.size() != header.size()) {
        throw new IOException(file + ": line " + (r + 1) + " has " + rec.size() + " fields, the header has "
            + header.size());
      }
      Map<String, String> row = new LinkedHashMap<>();
      for (int c = 0; c < header.size(); c++) {
        if (c != keyIndex && !rec.get(c).isEmpty()) {
          row.put(header.get(c), rec.get(c));
        }
      }
      rows.put(rec.get(keyIndex), Map.copyOf(row));
    }
    return new LookupTable(Map.copyOf(rows));
  }

  /** RFC 4180: comma-separated, fields optionally in double quotes, "" for a quote inside, CRLF or LF. */
  static List<List<String>> parseCsv(String text, Path file) throws IOException {
    List<List<String>> out = new ArrayList<>();
    List<String> record = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    boolean fieldStarted = false;
    int line = 1;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quoted) {
        if (c == '"') {
          if (i + 1 < text.length() && text.charAt(i + 1) == '"') {
            field.append('"');
            i++;
          } else {
            quoted = false;
          }
        } else {
          if (c == '\n') {
            line++;
          }
          field.append(c);
        }
      } else if (c == '"' && !fieldStarted) {
        quoted = true;
        fieldStarted = true;
      } else if (c == ',') {
        record.add(field.toString());
        field.setLength(0);
        fieldStarted = false;
      } else if (c == '\n' || c == '\r') {
        if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
          i++;
        }
        record.add(field.toString());
        out.add(record);
        record = new ArrayList<>();
        field.setLength(0);
        fieldStarted = false;
        line++;
      } else {
        field.append(c);
        fieldStarted = true;
      }
    }
    if (quoted) {
      throw new IOException(file + ": unterminated quoted field (line " + line + ")");
    }
    if (fieldStarted || !record.isEmpty()) {
      record.add(field.toString());
      out.add(record);
    }
    return out;
  }
}
