package dev.telemetry.gateway.otlp;

/** A JSON payload that does not follow the OTLP/JSON mapping; the message starts with the JSON path at fault. */
public final class OtlpJsonException extends Exception {
  private final String path;
  private final String problem;

  public OtlpJsonException(String path, String problem) {
    super(path.isEmpty() ? problem : path + ": " + problem);
    this.path = path;
    this.problem = problem;
  }

  /** The same problem one level further out, e.g. {@code spans[2]} becomes {@code scopeSpans[0].spans[2]}. */
  OtlpJsonException under(String segment) {
    String p = path.isEmpty() ? segment : (path.startsWith("[") ? segment + path : segment + "." + path);
    return new OtlpJsonException(p, problem);
  }

  public String path() {
    return path;
  }
}
