package dev.telemetry.gateway.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Running the real tools tests check things with (promtool, amtool, systemd-analyze, kubectl). */
public final class Processes {
  private Processes() {
  }

  /** Runs {@code cmd} to completion (2 minutes at most) and returns its output; a non-zero exit fails the test. */
  public static String run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as(String.join(" ", cmd)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", cmd) + "\n" + out).isZero();
    return out;
  }

  /** The first executable of these paths; none: the test fails, naming the Debian package that ships it. */
  public static String binary(String debianPackage, String... candidates) {
    for (String c : candidates) {
      if (Files.isExecutable(Path.of(c))) {
        return c;
      }
    }
    throw new AssertionError(Path.of(candidates[0]).getFileName() + " not found: install the Debian package '"
        + debianPackage + "' (.ci/run does)");
  }
}
