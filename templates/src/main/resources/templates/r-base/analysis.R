# Penguin measurements: the mean of each measure by species and sex (results/summary.csv) and body mass against
# flipper length (results/plot.png). Base R only.
penguins <- read.csv("data/penguins.csv", stringsAsFactors = FALSE)
measures <- c("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
dir.create("results", showWarnings = FALSE)

groups <- list(species = penguins$species, sex = penguins$sex)
counts <- aggregate(list(n = penguins$species), by = groups, FUN = length)
means <- aggregate(penguins[measures], by = groups, FUN = mean)
summary <- merge(counts, means, by = c("species", "sex"))
summary <- summary[order(summary$species, summary$sex), ]
# Two decimals, as text: C's printf rounding, the same in every locale.
for (m in measures) summary[[m]] <- sprintf("%.2f", summary[[m]])
write.csv(summary, "results/summary.csv", row.names = FALSE, quote = FALSE)

# cairo's PNG device: no display needed, and PNGs without dates (the same pixels give the same bytes).
png("results/plot.png", width = 640, height = 480, type = "cairo", family = "DejaVu Sans")
species <- sort(unique(penguins$species))
colours <- c("#1f77b4", "#ff7f0e", "#2ca02c")
plot(penguins$flipper_length_mm, penguins$body_mass_g, col = colours[match(penguins$species, species)], pch = 16,
     xlab = "flipper length (mm)", ylab = "body mass (g)", main = "Penguins: body mass against flipper length")
legend("topleft", legend = species, col = colours, pch = 16, title = "species", bty = "n")
invisible(dev.off())

cat(nrow(penguins), "penguins,", nrow(summary), "groups\n")
print(summary, row.names = FALSE)
