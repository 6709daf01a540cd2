package dev.telemetry.gateway.exporter.file;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RotatingFileTest {
  @TempDir
  Path dir;

  static byte[] line(int n) {
    return ("{\"line\":" + String.format("%04d", n) + "}\n").getBytes(StandardCharsets.UTF_8); // 14 bytes
  }

  List<Path> rotated() throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().startsWith("traces-")).sorted().toList();
    }
  }

  @Test
  void rotatesBySizeKeepsNewestFilesAndNeverSplitsLines() throws Exception {
    FileExporter.RotatingFile f = new FileExporter.RotatingFile(dir, "traces", 50, 2);
    for (int i = 0; i < 20; i++) {
      f.append(line(i));
    }
    f.close();
    List<Path> rotated = rotated();
    assertThat(rotated).hasSize(2);
    for (Path p : rotated) {
      assertThat(Files.size(p)).isLessThanOrEqualTo(50);
      assertThat(Files.readAllLines(p)).allSatisfy(l -> assertThat(l).matches("\\{\"line\":\\d{4}}"));
    }
    // 3 lines per file: the current file holds the last 20 % 3 = 2 lines, the newest rotated one the 3 before.
    assertThat(Files.readAllLines(dir.resolve("traces.jsonl"))).containsExactly("{\"line\":0018}", "{\"line\":0019}");
    assertThat(Files.readAllLines(rotated.get(1))).containsExactly("{\"line\":0015}", "{\"line\":0016}",
        "{\"line\":0017}");
  }

  @Test
  void appendsToAnExistingFileAfterRestart() throws Exception {
    FileExporter.RotatingFile f = new FileExporter.RotatingFile(dir, "traces", 1000, 2);
    f.append(line(1));
    f.close();
    FileExporter.RotatingFile again = new FileExporter.RotatingFile(dir, "traces", 1000, 2);
    again.append(line(2));
    again.close();
    assertThat(Files.readAllLines(dir.resolve("traces.jsonl"))).containsExactly("{\"line\":0001}", "{\"line\":0002}");
  }
}
