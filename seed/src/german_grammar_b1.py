"""B1 grammar topics of the German A1-B1 course (see german_a1_b1.py): explanation + exercises."""

from german_lib import grammar, multiple, short, single

PRAETERITUM = grammar("simple-past", "The simple past (Präteritum)", "B1", """
    # The simple past (Präteritum)

    Written stories, reports and news use the **Präteritum**.

    **Regular verbs:** stem + **-te** + ending: *machen → ich machte, du machtest, er machte, wir
    machten, ihr machtet, sie machten*. Stems in *-t/-d* add *-ete*: *arbeitete, redete*.

    **Irregular verbs** change the stem; *ich* and *er/sie/es* have **no ending**:

    | infinitive | Präteritum | | infinitive | Präteritum |
    |---|---|---|---|---|
    | gehen | ging | | kommen | kam |
    | sehen | sah | | geben | gab |
    | fahren | fuhr | | finden | fand |
    | schreiben | schrieb | | sprechen | sprach |
    | bleiben | blieb | | nehmen | nahm |
    | stehen | stand | | trinken | trank |
    | werden | wurde | | wissen | wusste |

    *Es **war** einmal ein König. Er **hatte** drei Töchter …* — *du kamst, wir kamen, ihr kamt*.
    """, [
    short("Gestern ___ ich bis 18 Uhr. (arbeiten)", ["arbeitete"], "Regular, stem in -t → *arbeitete*."),
    short("Er ___ nach Hause. (gehen)", ["ging"], "*gehen → ging*."),
    single("Wir ___ um acht Uhr an. (ankommen)", ["kommten", "kamen", "kamten", "kommen"], "kamen", "*kommen → kam*, wir → *kamen*."),
    single("Sie ___ einen langen Brief. (schreiben)", ["schreibte", "schrieb", "schrieben", "schrob"], "schrieb", "*schreiben → schrieb* (she, no ending)."),
    short("Plötzlich ___ das Telefon. (klingeln)", ["klingelte"], "Regular: *klingelte*."),
])

PLUPERFECT = grammar("past-perfect", "The past perfect (Plusquamperfekt)", "B1", """
    # The past perfect (Plusquamperfekt)

    For something that happened **before** another past event: **hatte / war** + past participle.

    - *Als ich ankam, **war** der Zug schon **abgefahren**.* (When I arrived, the train had already left.)
    - *Ich **hatte** nichts **gegessen**, deshalb hatte ich Hunger.*

    The choice between *hatte* and *war* follows the same rule as in the Perfekt (movement and
    change of state → *sein*). It is common after **nachdem** (after):

    ***Nachdem** wir **gegessen hatten**, gingen wir spazieren.*
    """, [
    single("Als wir ins Kino kamen, ___ der Film schon begonnen.", ["hat", "hatte", "war", "ist"], "hatte", "*beginnen* → *haben*; before another past event → *hatte begonnen*."),
    single("Er war müde, weil er schlecht ___.", ["geschlafen hat", "geschlafen hatte", "geschlafen war"], "geschlafen hatte", "*schlafen* → *haben*; earlier past → *hatte*."),
    short("Nachdem sie nach Hause gekommen ___, rief sie mich an. (sein)", ["war"], "*kommen* → *sein*: *gekommen war*."),
    single("Which sentence uses the past perfect?", ["Ich aß eine Suppe.", "Ich habe eine Suppe gegessen.", "Ich hatte eine Suppe gegessen."],
           "Ich hatte eine Suppe gegessen.", "*hatte* + participle."),
])

KONJUNKTIV = grammar("subjunctive-ii", "Polite requests and wishes: würde, hätte, wäre", "B1", """
    # Konjunktiv II

    The Konjunktiv II expresses **wishes, unreal situations and polite requests**.

    | | sein | haben | werden (→ would) | können |
    |---|---|---|---|---|
    | ich | wäre | hätte | würde | könnte |
    | du | wärst | hättest | würdest | könntest |
    | er/sie/es | wäre | hätte | würde | könnte |
    | wir | wären | hätten | würden | könnten |
    | ihr | wärt | hättet | würdet | könntet |
    | sie/Sie | wären | hätten | würden | könnten |

    For most other verbs use **würde + infinitive**: *Ich **würde** gern nach Japan **reisen**.*

    - Polite: ***Könnten** Sie mir helfen? **Hätten** Sie einen Moment Zeit?*
    - Wishes: *Wenn ich mehr Zeit **hätte**, **würde** ich mehr lesen.*
    - Advice: *Du **solltest** mehr schlafen.* / *An deiner Stelle **würde** ich …*
    - Past unreal: *Wenn ich das gewusst **hätte**, **wäre** ich gekommen.*
    """, [
    short("Wenn ich reich ___, würde ich ein Haus kaufen. (sein)", ["wäre", "waere"], "*ich wäre*."),
    single("___ Sie mir bitte das Salz geben?", ["Können", "Könnten", "Konnten", "Kannten"], "Könnten", "Polite request: *Könnten Sie …?*"),
    short("Ich ___ gern mehr Urlaub. (haben)", ["hätte", "haette"], "*ich hätte*."),
    single("If I had time, I would come.", ["Wenn ich Zeit hätte, würde ich kommen.", "Wenn ich Zeit habe, würde ich kommen.", "Wenn ich Zeit hätte, ich würde kommen."],
           "Wenn ich Zeit hätte, würde ich kommen.", "Konjunktiv in both parts; after the *wenn*-clause the verb comes first."),
    single("Advice: Du ___ zum Arzt gehen.", ["solltest", "sollst", "solltet", "sollen"], "solltest", "*solltest* = should (advice)."),
])

PASSIVE = grammar("passive-voice", "The passive: wird gemacht, wurde gemacht", "B1", """
    # The passive

    The passive focuses on **what happens**, not on who does it: **werden + past participle**.

    | tense | form | example |
    |---|---|---|
    | present | wird / werden + participle | *Das Haus **wird** renoviert.* |
    | simple past | wurde / wurden + participle | *Das Haus **wurde** 1900 **gebaut**.* |
    | perfect | ist … participle + **worden** | *Das Haus **ist** renoviert **worden**.* |
    | with modal | modal + participle + **werden** | *Das Haus **muss** renoviert **werden**.* |

    The doer can be added with **von** + dative: *Das Buch wurde **von** einem Schweizer
    geschrieben.*

    *werden* present: *ich werde, du wirst, er wird, wir werden, ihr werdet, sie werden.*
    """, [
    short("In Österreich ___ Deutsch gesprochen. (werden, present)", ["wird"], "Singular subject (*Deutsch*) → *wird gesprochen*."),
    short("Die Brücke wurde 1880 ___. (bauen)", ["gebaut"], "*wurde* + participle *gebaut*."),
    single("Die Briefe ___ morgen geschickt.", ["wird", "werden", "wurden", "worden"], "werden", "Plural subject, future meaning, present passive: *werden geschickt*."),
    single("Das Auto ist repariert ___.", ["geworden", "worden", "werden", "wurde"], "worden", "Perfect passive uses *worden* (without ge-)."),
    single("The window must be closed.", ["Das Fenster muss geschlossen werden.", "Das Fenster muss geschlossen worden.", "Das Fenster wird geschlossen müssen."],
           "Das Fenster muss geschlossen werden.", "Modal + participle + *werden*."),
])

RELATIVE = grammar("relative-clauses", "Relative clauses: der, die, das, dem, denen", "B1", """
    # Relative clauses

    A relative clause describes a noun. The **relative pronoun** has the **gender and number** of
    that noun and the **case** of its role in the relative clause. The verb goes to the end.

    | | masculine | feminine | neuter | plural |
    |---|---|---|---|---|
    | nominative | der | die | das | die |
    | accusative | den | die | das | die |
    | dative | dem | der | dem | **denen** |
    | genitive | dessen | deren | dessen | deren |

    - *Der Mann, **der** dort steht, ist mein Chef.* (subject → nominative)
    - *Der Mann, **den** ich gestern getroffen habe, …* (object → accusative)
    - *Der Mann, **dem** ich geholfen habe, …* (*helfen* + dative)
    - *Die Leute, mit **denen** ich arbeite, sind nett.* (preposition + dative plural)

    After *alles, etwas, nichts* and whole sentences: **was** — *Das ist alles, **was** ich weiß.*
    """, [
    single("Das ist die Frau, ___ neben mir wohnt.", ["der", "die", "den", "das"], "die", "*die Frau*, subject of *wohnt* → *die*."),
    single("Der Film, ___ wir gesehen haben, war gut.", ["der", "den", "dem", "das"], "den", "*der Film* is the object of *sehen* → accusative *den*."),
    short("Die Kinder, mit ___ ich spiele, sind fünf. (relative pronoun)", ["denen"], "Plural dative → *denen*."),
    single("Das Buch, ___ auf dem Tisch liegt, gehört mir.", ["der", "die", "das", "dem"], "das", "*das Buch*, subject → *das*."),
    single("Das ist alles, ___ ich habe.", ["das", "was", "welches", "dass"], "was", "After *alles* → *was*."),
    multiple("Which sentences are correct? (Choose all that apply.)",
             ["Das ist der Mann, den ich kenne.", "Das ist der Mann, der ich kenne.",
              "Das sind die Leute, denen ich helfe.", "Das ist die Frau, die ich helfe."],
             ["Das ist der Mann, den ich kenne.", "Das sind die Leute, denen ich helfe."],
             "*kennen* takes an accusative (*den*), *helfen* a dative (*denen* in the plural, *der* for a woman: *die Frau, der ich helfe*)."),
])

GENITIVE = grammar("genitive-case", "The genitive: des Mannes, wegen, trotz", "B1", """
    # The genitive

    The genitive shows **possession** ("of", "'s"):

    | | article | noun |
    |---|---|---|
    | masculine | **des / eines** | + **-s** or **-es**: *des Vaters, des Mannes* |
    | feminine | **der / einer** | – : *der Mutter* |
    | neuter | **des / eines** | + **-s** or **-es**: *des Kindes, des Autos* |
    | plural | **der** | – : *der Kinder* |

    - *das Auto **des** Lehrer**s*** (the teacher's car); *die Farbe **der** Tür*
    - Names take **-s** without apostrophe: *Annas Buch, Peters Auto*.
    - Genitive prepositions (written and formal German): ***wegen*** (because of), ***trotz***
      (despite), ***während*** (during), ***statt*** (instead of): *wegen **des** Wetters,
      während **der** Woche*.
    - In speech the genitive is often replaced by **von + dative**: *das Auto von meinem Vater*.
    """, [
    single("Das ist das Haus ___ Familie Meier.", ["des", "der", "dem", "die"], "der", "Feminine genitive: *der*."),
    short("Wegen ___ Regens bleiben wir zu Hause. (the)", ["des"], "*der Regen*, genitive → *des Regens*."),
    single("Das Zimmer ___ ist klein.", ["des Kind", "des Kindes", "dem Kind", "der Kinde"], "des Kindes", "Neuter genitive: *des Kindes*."),
    single("Peter's bike:", ["Peter's Fahrrad", "Peters Fahrrad", "das Fahrrad Peter", "des Peters Fahrrad"], "Peters Fahrrad", "Names: *-s*, no apostrophe."),
    multiple("Which prepositions take the genitive? (Choose all that apply.)",
             ["wegen", "mit", "trotz", "während", "durch"], ["wegen", "trotz", "während"],
             "*wegen, trotz, während, statt* take the genitive; *mit* takes the dative, *durch* the accusative."),
    short("___ des Urlaubs hat es viel geregnet. (during)", ["Während"], "*während* + genitive."),
])

ZU_INFINITIVE = grammar("infinitive-with-zu", "Infinitive with zu; um … zu", "B1", """
    # Infinitive with zu

    After many verbs, adjectives and nouns a second verb comes as **zu + infinitive** at the end:

    - *Ich **versuche**, pünktlich **zu** kommen.* (try to)
    - *Es ist **schwer**, Deutsch **zu** lernen.*
    - *Ich habe **keine Zeit**, dich **zu** besuchen.*
    - Typical verbs: *anfangen, aufhören, beginnen, vergessen, versuchen, vorhaben, hoffen,
      planen, Lust haben, es ist wichtig/schön/leicht*.

    Separable verbs put *zu* between prefix and verb: *Vergiss nicht, mich **anzurufen**.*

    **No zu** after modal verbs, *werden* and (usually) *gehen, lassen, sehen, hören*:
    *Ich kann schwimmen.* — *Ich gehe einkaufen.*

    **um … zu** = in order to (purpose, same subject): *Ich lerne Deutsch, **um** in Berlin
    **zu** arbeiten.* With a different subject: **damit** + clause.
    """, [
    single("Ich habe vergessen, ___.", ["die Tür abzuschließen", "die Tür zu abschließen", "die Tür abschließen"], "die Tür abzuschließen",
           "Separable verb: *ab-zu-schließen*."),
    single("Er will ___.", ["zu kommen", "kommen", "kommt"], "kommen", "No *zu* after modal verbs."),
    short("Ich spare Geld, ___ ein Auto zu kaufen. (in order to)", ["um"], "*um … zu* = in order to."),
    single("Es ist wichtig, jeden Tag Wasser ___.", ["trinken", "zu trinken", "zu getrunken", "trinkt"], "zu trinken", "*es ist wichtig* + *zu* + infinitive."),
    short("Hast du Lust, ins Kino ___? (gehen — write two words)", ["zu gehen"], "*Lust haben* + *zu*: *ins Kino zu gehen*."),
])

ALS_WENN = grammar("als-or-wenn", "When in the past: als or wenn?", "B1", """
    # als or wenn?

    Both mean "when", but:

    | | use | example |
    |---|---|---|
    | **als** | **one** event or period in the **past** | *Als ich ein Kind war, wohnten wir in Köln.* *Als ich ankam, regnete es.* |
    | **wenn** | **repeated** events in the past (*every time*, often with *immer*) | *Immer wenn ich Oma besuchte, backte sie Kuchen.* |
    | **wenn** | present and future (when / if) | *Wenn ich in Rom bin, besuche ich dich.* |

    **wann** is only for questions (direct and indirect): *Wann kommst du? Ich weiß nicht,
    wann er kommt.*

    Both *als* and *wenn* send the verb to the end.
    """, [
    single("___ ich 18 war, machte ich den Führerschein.", ["Als", "Wenn", "Wann"], "Als", "One event in the past → *als*."),
    single("Immer ___ es regnete, blieben wir zu Hause.", ["als", "wenn", "wann"], "wenn", "Repeated in the past → *wenn*."),
    single("Weißt du, ___ der Film beginnt?", ["als", "wenn", "wann"], "wann", "Indirect question → *wann*."),
    single("___ du morgen Zeit hast, ruf mich an!", ["Als", "Wenn", "Wann"], "Wenn", "Future / condition → *wenn*."),
    short("___ wir in Paris waren, haben wir den Eiffelturm gesehen. (one trip)", ["Als"], "A single trip in the past → *als*."),
])

INDIRECT_QUESTIONS = grammar("indirect-questions", "Indirect questions: Können Sie mir sagen, wo …?", "B1", """
    # Indirect questions

    Indirect questions are polite and frequent. They are subordinate clauses: **verb at the end**.

    - W-questions keep the question word: *Wo ist der Bahnhof?* → *Können Sie mir sagen, **wo**
      der Bahnhof **ist**?*
    - Yes/no questions use **ob**: *Kommt er?* → *Ich weiß nicht, **ob** er **kommt**.*

    Typical openings: *Können Sie mir sagen, … / Wissen Sie, … / Ich möchte wissen, … /
    Ich frage mich, …*

    The question mark only stays if the whole sentence is a question.
    """, [
    single("Können Sie mir sagen, wie spät ___?", ["ist es", "es ist", "es sein"], "es ist", "Verb at the end: *wie spät es ist*."),
    single("Ich weiß nicht, ___ sie verheiratet ist.", ["wenn", "ob", "dass", "was"], "ob", "Yes/no → *ob*."),
    single("Indirect form of *Wann fährt der Bus?*: Wissen Sie, …", ["wann fährt der Bus?", "wann der Bus fährt?", "ob der Bus fährt wann?"],
           "wann der Bus fährt?", "Question word + verb at the end."),
    short("Ich frage mich, ___ er so spät kommt. (why)", ["warum", "wieso", "weshalb"], "*warum* (also *wieso*, *weshalb*)."),
])

FUTURE = grammar("future-tense", "The future: werden + infinitive", "B1", """
    # The future tense (Futur I)

    **werden** (position 2) + **infinitive** (end):

    *Ich **werde** nächstes Jahr nach Kanada **fliegen**.*

    | ich werde | du wirst | er/sie/es wird | wir werden | ihr werdet | sie/Sie werden |
    |---|---|---|---|---|---|

    - Germans often use the **present tense + time word** for the future: *Morgen fliege ich
      nach Kanada.* Futur I is used for **plans and promises** (*Ich werde dir helfen.*),
      **predictions** (*Es wird regnen.*) and **assumptions** (*Er wird krank sein.* = he is
      probably ill).
    - *werden* alone means "to become": *Sie wird Ärztin.* (She is becoming a doctor.)
    """, [
    short("Ich ___ dich morgen anrufen. (werden)", ["werde"], "*ich werde* + infinitive."),
    short("Du ___ es schaffen! (werden)", ["wirst"], "*du wirst*."),
    single("Which sentence is in the future tense?", ["Ich wurde müde.", "Ich werde das Buch lesen.", "Ich bin müde geworden."],
           "Ich werde das Buch lesen.", "*werden* + infinitive."),
    single("*Er wird wohl im Büro sein* means:", ["He will become an office.", "He is probably in the office.", "He was in the office."],
           "He is probably in the office.", "Futur I + *wohl* = an assumption about now."),
])

N_DECLENSION = grammar("n-declension", "Weak masculine nouns: der Student, den Studenten", "B1", """
    # The n-declension

    A group of masculine nouns adds **-(e)n** in **every case except the nominative singular**:

    | | singular | plural |
    |---|---|---|
    | nominative | der Student | die Studenten |
    | accusative | den Student**en** | die Studenten |
    | dative | dem Student**en** | den Studenten |
    | genitive | des Student**en** | der Studenten |

    Which nouns? Masculine nouns for people and animals ending in **-e** (*der Junge, der Kollege,
    der Kunde, der Löwe*), nouns in **-ent, -ant, -ist** (*der Präsident, der Praktikant, der
    Polizist*) and some others: *der Mensch, der Herr (den Herrn), der Nachbar, der Bär*.

    *Ich kenne den Nachbar**n**. Ich spreche mit dem Kolleg**en**. Sehr geehrter Herr Müller →
    Ich schreibe Herr**n** Müller.*
    """, [
    short("Ich frage den ___. (der Polizist)", ["Polizisten"], "n-declension: *den Polizisten*."),
    single("Kennst du meinen ___?", ["Kollege", "Kollegen", "Kolleges"], "Kollegen", "Accusative → *Kollegen*."),
    single("Der Brief ist für ___ Schmidt.", ["Herr", "Herrn", "Herren"], "Herrn", "*Herr* → *Herrn* in the accusative singular."),
    single("Which noun follows the n-declension?", ["der Tisch", "der Mensch", "der Vater", "der Lehrer"], "der Mensch", "*der Mensch, den Menschen*."),
    short("Ich helfe dem ___. (der Kunde)", ["Kunden"], "Dative → *dem Kunden*."),
])

VERBS_PREPOSITIONS = grammar("verbs-with-prepositions", "Verbs with prepositions: warten auf, denken an", "B1", """
    # Verbs with fixed prepositions

    Many verbs go with a fixed preposition; learn them as a unit, with the case:

    | verb | case | example |
    |---|---|---|
    | warten **auf** | acc. | *Ich warte auf den Bus.* |
    | denken **an** | acc. | *Ich denke an dich.* |
    | sich freuen **auf** | acc. | *Ich freue mich auf das Wochenende.* (something coming) |
    | sich freuen **über** | acc. | *Ich freue mich über das Geschenk.* (something already here) |
    | sich interessieren **für** | acc. | *Er interessiert sich für Politik.* |
    | sich ärgern **über** | acc. | *Sie ärgert sich über den Lärm.* |
    | sprechen **über / mit** | acc. / dat. | *Wir sprechen mit dem Chef über das Projekt.* |
    | Angst haben **vor** | dat. | *Das Kind hat Angst vor dem Hund.* |
    | teilnehmen **an** | dat. | *Ich nehme an dem Kurs teil.* |
    | sich erinnern **an** | acc. | *Erinnerst du dich an den Urlaub?* |
    | fragen **nach** | dat. | *Er fragt nach dem Weg.* |
    """, [
    short("Ich warte ___ meine Freundin.", ["auf"], "*warten auf* + accusative."),
    single("Sie interessiert sich ___ Kunst.", ["an", "für", "über", "auf"], "für", "*sich interessieren für*."),
    single("Wir freuen uns ___ die Ferien nächste Woche.", ["über", "auf", "an", "für"], "auf", "Something in the future → *sich freuen auf*."),
    single("Er hat Angst vor ___ Prüfung.", ["die", "der", "den"], "der", "*Angst haben vor* + dative: *der Prüfung*."),
    short("Denkst du oft ___ deine Kindheit?", ["an"], "*denken an* + accusative."),
])

DA_WO = grammar("da-and-wo-compounds", "da- and wo- compounds: darauf, worauf", "B1", """
    # da- and wo- compounds

    With verbs + preposition, a **thing** is replaced by **da(r)- + preposition**, and asked about
    with **wo(r)- + preposition**. An *r* is added before a vowel.

    | preposition | thing (answer) | question (thing) | person |
    |---|---|---|---|
    | auf | dar**auf** | wor**auf**? | auf wen? – auf ihn |
    | an | dar**an** | wor**an**? | an wen? – an sie |
    | für | da**für** | wo**für**? | für wen? – für ihn |
    | mit | da**mit** | wo**mit**? | mit wem? – mit ihm |
    | über | dar**über** | wor**über**? | über wen? – über sie |

    - *Wartest du auf den Bus? — Ja, ich warte **darauf**.* (thing)
    - *Wartest du auf Tom? — Ja, ich warte **auf ihn**.* (person)
    - ***Worüber** sprecht ihr?* — ***Über wen** sprecht ihr?*

    *da-* words can also announce a clause: *Ich freue mich **darauf**, dich zu sehen.*
    """, [
    short("Interessierst du dich für Fußball? — Nein, ich interessiere mich nicht ___.", ["dafür"], "*für* + thing → *dafür*."),
    short("___ denkst du? (an + what)", ["Woran"], "*an* starts with a vowel → *wor-an*."),
    single("Wartest du auf deine Schwester? — Ja, ich warte ___.", ["darauf", "auf sie", "worauf"], "auf sie", "A person → preposition + pronoun."),
    single("___ habt ihr gesprochen? — Über die Arbeit.", ["Worüber", "Über was", "Darüber", "Wovon"], "Worüber",
           "Standard question for a thing: *Worüber?* (*Über was?* is colloquial)."),
])

TWO_PART = grammar("two-part-conjunctions", "Two-part conjunctions: entweder … oder, weder … noch", "B1", """
    # Two-part conjunctions

    | | meaning | example |
    |---|---|---|
    | sowohl … als auch | both … and | *Sie spricht **sowohl** Englisch **als auch** Spanisch.* |
    | entweder … oder | either … or | *Wir fahren **entweder** ans Meer **oder** in die Berge.* |
    | weder … noch | neither … nor | *Ich habe **weder** Zeit **noch** Geld.* |
    | nicht nur … sondern auch | not only … but also | *Er ist **nicht nur** klug, **sondern auch** lustig.* |
    | zwar … aber | admittedly … but | *Das Hotel ist **zwar** teuer, **aber** sehr schön.* |
    | je … desto | the … the | ***Je** mehr ich lerne, **desto** besser spreche ich.* |

    *weder … noch* is already negative: no *nicht* or *kein*.

    *je* + comparative sends the verb to the end; *desto* + comparative is followed by the verb:
    *Je älter er wird, desto ruhiger ist er.*
    """, [
    single("Ich trinke ___ Kaffee noch Tee.", ["entweder", "weder", "sowohl", "nicht"], "weder", "*weder … noch* = neither … nor."),
    short("Du kannst entweder heute ___ morgen kommen.", ["oder"], "*entweder … oder*."),
    single("Je länger ich warte, ___ nervöser werde ich.", ["desto", "als", "so", "dann"], "desto", "*je … desto*."),
    single("Er spielt nicht nur Gitarre, ___ auch Klavier.", ["aber", "sondern", "oder", "noch"], "sondern", "*nicht nur … sondern auch*."),
])

CONCESSIVE = grammar("obwohl-and-trotzdem", "Contrast: obwohl, trotzdem, deshalb", "B1", """
    # obwohl, trotzdem, deshalb

    | word | type | word order | meaning |
    |---|---|---|---|
    | **obwohl** | subordinating conjunction | verb at the **end** | although |
    | **trotzdem** | adverb | verb **right after it** | nevertheless / anyway |
    | **deshalb / deswegen / darum** | adverb | verb **right after it** | that's why / therefore |

    - *Ich gehe spazieren, **obwohl** es **regnet**.*
    - *Es regnet. **Trotzdem gehe** ich spazieren.*
    - *Es regnet, **deshalb bleibe** ich zu Hause.*

    Compare with *weil* (verb at the end) and *denn* (no change): *Ich bleibe zu Hause, weil es
    regnet / denn es regnet.*
    """, [
    single("Er ist müde. ___ arbeitet er weiter.", ["Obwohl", "Trotzdem", "Weil", "Denn"], "Trotzdem", "Adverb + verb: *Trotzdem arbeitet er weiter.*"),
    single("Sie kauft das Kleid, obwohl ___.", ["es ist teuer", "es teuer ist", "ist es teuer"], "es teuer ist", "*obwohl* → verb at the end."),
    single("Ich habe Hunger, ___ esse ich ein Brot.", ["deshalb", "obwohl", "trotzdem", "weil"], "deshalb", "Consequence → *deshalb*; verb follows."),
    multiple("In which sentences is the word order correct? (Choose all that apply.)",
             ["Obwohl es regnet, gehen wir spazieren.", "Es regnet, trotzdem wir gehen spazieren.",
              "Es regnet, trotzdem gehen wir spazieren.", "Wir gehen spazieren, obwohl es regnet."],
             ["Obwohl es regnet, gehen wir spazieren.", "Es regnet, trotzdem gehen wir spazieren.", "Wir gehen spazieren, obwohl es regnet."],
             "After *trotzdem* the verb comes next (*trotzdem gehen wir*); *obwohl* sends the verb to the end of its clause."),
    short("___ ich krank war, bin ich zur Arbeit gegangen. (although)", ["Obwohl"], "*Obwohl* + verb at the end, then the main clause starts with the verb."),
])

TEMPORAL = grammar("temporal-clauses", "Time clauses: bevor, nachdem, während, seit, bis", "B1", """
    # Time clauses

    All of these are subordinating conjunctions (verb at the end):

    | | meaning | example |
    |---|---|---|
    | **bevor** | before | *Bevor ich frühstücke, dusche ich.* |
    | **nachdem** | after | *Nachdem ich gegessen hatte, ging ich schlafen.* (usually with a tense shift: past perfect → simple past, perfect → present) |
    | **während** | while | *Während ich koche, hört er Musik.* |
    | **seit(dem)** | since | *Seit ich in Berlin wohne, fahre ich Fahrrad.* |
    | **bis** | until | *Warte, bis ich zurückkomme.* |
    | **sobald** | as soon as | *Ich rufe dich an, sobald ich zu Hause bin.* |

    Don't confuse the conjunction *bevor* with the preposition *vor* (*vor dem Essen*), or
    *nachdem* with the preposition *nach* (*nach dem Essen*).
    """, [
    single("___ du gehst, mach bitte das Licht aus.", ["Vor", "Bevor", "Nach", "Seit"], "Bevor", "A clause needs the conjunction *bevor*."),
    single("Nachdem er die Prüfung ___, feierte er mit seinen Freunden.", ["bestanden hat", "bestanden hatte", "besteht"], "bestanden hatte",
           "The main clause is in the simple past (*feierte*), so the earlier action after *nachdem* is in the past perfect: *bestanden hatte*."),
    short("Ich warte hier, ___ du fertig bist. (until)", ["bis"], "*bis* = until."),
    single("___ ich koche, räumt mein Mann auf. (while)", ["Während", "Wenn", "Als", "Seit"], "Während", "*während* = while."),
    short("Ich melde mich, ___ ich angekommen bin. (as soon as)", ["sobald"], "*sobald* = as soon as."),
])

LASSEN = grammar("lassen", "lassen: to let, to have something done", "B1", """
    # lassen

    *ich lasse, du lässt, er lässt, wir lassen, ihr lasst, sie lassen* — Präteritum *ließ*,
    Perfekt *hat gelassen*.

    1. **to leave** something somewhere: *Ich **lasse** den Schlüssel zu Hause.*
    2. **to let / allow**: *Meine Eltern **lassen** mich allein reisen.*
    3. **to have something done** (by someone else): *Ich **lasse** mein Auto **reparieren**.*
       (I'm having my car repaired.) *Sie **lässt sich** die Haare **schneiden**.*
    4. **lass uns …** = let's: ***Lass uns** ins Kino gehen!*

    With another verb *lassen* works like a modal verb: infinitive at the end, no *zu*. In the
    Perfekt the infinitive replaces the participle: *Ich **habe** mein Auto **reparieren lassen**.*
    """, [
    short("Er ___ sein Fahrrad reparieren. (lassen)", ["lässt", "laesst"], "*er lässt* (a → ä, ss)."),
    single("\"I'm having my hair cut.\"", ["Ich schneide meine Haare.", "Ich lasse mir die Haare schneiden.", "Ich lasse die Haare geschnitten."],
           "Ich lasse mir die Haare schneiden.", "*sich (dat.) etwas machen lassen*."),
    single("\"Let's go!\" (to one friend)", ["Lass uns gehen!", "Lasst uns gehen!", "Lassen wir gehen uns!"], "Lass uns gehen!", "To one friend: *Lass uns …* (to several: *Lasst uns …*)."),
    single("Perfekt: Ich ___ das Auto waschen lassen.", ["bin", "habe", "hatte gelassen"], "habe", "*Ich habe das Auto waschen lassen.*"),
])

B1 = [PRAETERITUM, PLUPERFECT, KONJUNKTIV, PASSIVE, RELATIVE, GENITIVE, ZU_INFINITIVE, ALS_WENN,
      INDIRECT_QUESTIONS, FUTURE, N_DECLENSION, VERBS_PREPOSITIONS, DA_WO, TWO_PART, CONCESSIVE,
      TEMPORAL, LASSEN]
