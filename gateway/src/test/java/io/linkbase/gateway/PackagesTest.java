package io.linkbase.gateway;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import io.linkbase.devstack.arch.PackageRules;

import java.util.Map;

/**
 * The gateway's packages import each other without cycles, and a class is public only when
 * another package uses it (docs/decisions.md "Packages").
 */
@AnalyzeClasses(packages = "io.linkbase.gateway", importOptions = ImportOption.DoNotIncludeTests.class)
class PackagesTest {
    @ArchTest
    static final ArchRule NO_CYCLES = PackageRules.noCycles("io.linkbase.gateway");

    @ArchTest
    static final ArchRule PUBLIC_ONLY_ACROSS_PACKAGES = PackageRules.publicOnlyAcrossPackages(Map.of());
}
