# Checks python classes: inheritance and super(), properties, dunder methods, dataclasses, abstract classes, custom exceptions with chaining, OSError subclasses, and exit status 5 via SystemExit.
import abc
import dataclasses
import sys

class Shape(abc.ABC):
    count = 0
    def __init__(self, name):
        self.name = name
        Shape.count += 1
    @abc.abstractmethod
    def area(self): ...
    def __repr__(self):
        return f"{type(self).__name__}({self.name!r}, area={self.area():.2f})"
    def __lt__(self, other):
        return self.area() < other.area()

class Rect(Shape):
    def __init__(self, w, h, name="rect"):
        super().__init__(name)
        self.w, self.h = w, h
    def area(self):
        return self.w * self.h
    @property
    def perimeter(self):
        return 2 * (self.w + self.h)

class Square(Rect):
    def __init__(self, side):
        super().__init__(side, side, name="square")

class Circle(Shape):
    def __init__(self, r):
        super().__init__("circle")
        self.r = r
    def area(self):
        return 3.14159 * self.r ** 2

shapes = [Rect(3, 4), Square(2), Circle(1.5)]
print(sorted(shapes), Shape.count, Square.__mro__[1].__name__, isinstance(shapes[1], Rect), shapes[0].perimeter)
try:
    Shape("abstract")
except TypeError as e:
    print("TypeError:", "abstract" in str(e))

@dataclasses.dataclass(order=True, frozen=True)
class Version:
    major: int
    minor: int = 0
    tags: tuple = ()

vs = sorted([Version(1, 2), Version(0, 9, ("beta",)), Version(1)])
print(vs, Version(1) == Version(1, 0), dataclasses.asdict(vs[0]))
try:
    vs[0].major = 5
except dataclasses.FrozenInstanceError:
    print("frozen dataclass refused assignment")

class WispError(Exception):
    def __init__(self, code, msg):
        super().__init__(f"[{code}] {msg}")
        self.code = code

def risky(n):
    try:
        return 10 // n
    except ZeroDivisionError as e:
        raise WispError(22, "division failed") from e
    finally:
        print("finally ran for", n)

for n in (5, 0):
    try:
        print("result", risky(n))
    except WispError as e:
        print("caught", e, e.code, type(e.__cause__).__name__)
try:
    {}["missing"]
except LookupError as e:
    print("LookupError subclass:", type(e).__name__, e)

try:
    with open("/nonexistent-wisp-dir/x") as f:
        pass
except OSError as e:
    print("OSError subclass:", type(e).__name__, e.errno)
print("exiting with status 5")
sys.exit(5)
