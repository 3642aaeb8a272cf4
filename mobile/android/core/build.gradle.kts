// Pure Kotlin for the JVM: no android.* here, so the presenters and the FFI repository are tested
// on a desktop JVM against the real Rust library (scripts/test.d/mobile-core does the same with
// kotlinc directly, since CI has no Gradle).
plugins {
    alias(libs.plugins.kotlin.jvm)
    `java-test-fixtures`
}

kotlin { jvmToolchain(17) }

sourceSets {
    main {
        // The generated uniffi Kotlin (JVM flavour), written by scripts/bindings.
        kotlin.srcDir(providers.gradleProperty("tenda.bindingsDir"))
        kotlin.srcDir("src/ffi/kotlin")
    }
    test {
        kotlin.srcDir("src/ffiTest/kotlin")
    }
}

dependencies {
    api(libs.kotlinx.coroutines.core)
    implementation(libs.jna)
    testFixturesApi(libs.kotlinx.coroutines.core)
    testImplementation(kotlin("test-junit5"))
    testImplementation(libs.junit.jupiter)
}

tasks.test {
    useJUnitPlatform()
    systemProperty("jna.library.path", rootProject.file("../../build/bindings/lib").absolutePath)
    // `cargo build -p tenda-scenarios --bin tenda-test-stack` first; the FFI shift test starts it.
    systemProperty("tenda.testStack", providers.environmentVariable("TENDA_TEST_STACK").getOrElse(""))
    systemProperty("tenda.classpath", classpath.asPath)
}
