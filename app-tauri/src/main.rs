fn main() {
    tenda_desktop::run();
}
