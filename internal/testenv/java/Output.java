package paraphe.testenv;

import java.io.FileOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;

/** Writes an output file whole or not at all. */
final class Output {
    private Output() {}

    interface Writer {
        void write(OutputStream os) throws Exception;
    }

    static void write(String path, Writer w) throws Exception {
        Path dst = Paths.get(path);
        Path tmp = dst.resolveSibling(dst.getFileName() + ".part");
        try {
            try (OutputStream os = new FileOutputStream(tmp.toFile())) {
                w.write(os);
            }
            Files.move(tmp, dst, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
