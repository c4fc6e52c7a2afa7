# Checks python collections, itertools, functools, heapq, bisect and operator with deterministic (hash-order independent) output.
import bisect
import collections
import functools
import heapq
import itertools
import operator

words = "the cat sat on the mat the end of the cat".split()
c = collections.Counter(words)
print(c.most_common(3), sorted(c.items()), c["dog"])
dd = collections.defaultdict(list)
for w in words:
    dd[len(w)].append(w)
print(sorted((k, v) for k, v in dd.items()))
od = collections.OrderedDict.fromkeys("abcde")
od.move_to_end("b"); od.popitem(last=False)
print(list(od))
dq = collections.deque(range(5), maxlen=5)
dq.rotate(2); dq.append(9); dq.appendleft(-1)
print(dq)
Point = collections.namedtuple("Point", "x y")
p = Point(3, 4)
print(p, p._replace(y=10), p._asdict(), p.x * p.y)
cm = collections.ChainMap({"a": 1}, {"a": 2, "b": 3})
print(cm["a"], cm["b"], sorted(cm))

print(list(itertools.accumulate([1, 2, 3, 4, 5], operator.mul)), list(itertools.chain("ab", [1, 2])))
print(list(itertools.combinations("abcd", 2)), len(list(itertools.permutations(range(5), 3))))
print(list(itertools.product("ab", repeat=2)), list(itertools.islice(itertools.count(10, 5), 4)))
print([(k, len(list(g))) for k, g in itertools.groupby("aaabccdddd")], list(itertools.zip_longest("abc", "x", fillvalue="-")))
print(list(itertools.compress("wisped", [1, 1, 1, 1, 0, 0])), list(itertools.takewhile(lambda x: x < 4, [1, 3, 5, 2])), list(itertools.pairwise("abcd")))

@functools.lru_cache(maxsize=None)
def ways(n):
    return 1 if n <= 1 else ways(n - 1) + ways(n - 2)
print(ways(90), ways.cache_info().misses)
print(functools.reduce(operator.add, range(101)), functools.partial(pow, 2)(16))
print(sorted(["b", "A", "c", "B"], key=functools.cmp_to_key(lambda x, y: (x.lower() > y.lower()) - (x.lower() < y.lower()))))
h = [5, 1, 8, 3, 9, 2]
heapq.heapify(h)
print([heapq.heappop(h) for _ in range(3)], heapq.nlargest(2, [4, 7, 1, 9]), list(heapq.merge([1, 4, 7], [2, 5, 8])))
s = [1, 3, 3, 5, 9]
print(bisect.bisect_left(s, 3), bisect.bisect_right(s, 3), bisect.insort(s, 4) or s)
print(sorted({"pear", "apple", "fig"}), sorted({3, 1, 2}), sorted(frozenset("wisp") | {"x"}))
print(sorted([("b", 2), ("a", 2), ("c", 1)], key=operator.itemgetter(1, 0)), list(map(operator.neg, [1, -2])))
