"""The 12 conversation contexts of the German A1-B1 course (see german_a1_b1.py).

Each is a `material` item: Markdown for the learner (situation, useful phrases, how to start)
plus a `conversation` object the AI tutor plays from: scenario, the role the tutor plays, the
learner's goals and the level to speak at.
"""

from german_lib import conversation

A1 = [
conversation("cafe-order", "At the café: ordering and paying", "A1",
    "A small café in Vienna in the afternoon. The learner sits down and wants a drink and a piece of cake, then pays.",
    "a friendly waiter (Kellner) who uses Sie, speaks slowly and simply, and offers the menu",
    ["greet the waiter and ask for the menu", "order a drink and a piece of cake with 'Ich möchte …' or 'Ich hätte gern …'",
     "ask what something costs", "ask for the bill and pay, saying 'Stimmt so' for a tip"], """
    # At the café

    You are in a café in Vienna. Order something to drink and a piece of cake, then pay.

    | German | English |
    |---|---|
    | Die Karte, bitte. | The menu, please. |
    | Ich möchte einen Kaffee. / Ich hätte gern einen Tee. | I'd like a coffee. / I'd like a tea. |
    | Was für Kuchen haben Sie? | What kind of cake do you have? |
    | Was kostet ein Stück Apfelkuchen? | How much is a piece of apple cake? |
    | Zahlen, bitte! / Die Rechnung, bitte! | The bill, please! |
    | Zusammen oder getrennt? | Together or separately? |
    | Das macht 7,80 Euro. — Neun Euro, stimmt so. | That's 7.80 euros. — Nine euros, keep the change. |

    The waiter starts: *Grüß Gott! Was darf es sein?*
"""),
conversation("introducing-yourself", "First day of the course: introducing yourself", "A1",
    "The first evening of a German course at an adult education centre (Volkshochschule). During the break the learner talks to another participant.",
    "another course participant, Lukas, 28, from Graz, who uses du, is curious and asks simple questions",
    ["say your name and where you come from", "say where you live and what you do", "say which languages you speak",
     "ask the other person at least two questions back"], """
    # Introducing yourself

    It's the break on the first evening of your German course. Another participant starts a
    conversation.

    | German | English |
    |---|---|
    | Ich heiße … / Mein Name ist … | My name is … |
    | Ich komme aus England / aus den USA / aus der Türkei. | I come from England / the USA / Turkey. |
    | Ich wohne in … | I live in … |
    | Ich bin Ingenieurin. / Ich studiere Medizin. | I'm an engineer. / I study medicine. |
    | Ich spreche Englisch und ein bisschen Deutsch. | I speak English and a little German. |
    | Und du? Woher kommst du? | And you? Where are you from? |
    | Freut mich! | Nice to meet you! |

    Lukas starts: *Hallo! Ich bin Lukas. Und wie heißt du?*
"""),
conversation("at-the-bakery", "At the bakery", "A1",
    "A bakery (Bäckerei) in a German town on Saturday morning. The learner buys bread and rolls for breakfast with friends.",
    "the shop assistant (Verkäuferin) at the bakery, polite, quick, who asks 'Sonst noch etwas?'",
    ["ask for bread rolls and a loaf, with numbers", "ask what a kind of bread is or costs",
     "answer 'Sonst noch etwas?' and finish the order", "pay and say goodbye"], """
    # At the bakery

    You are buying breakfast for four friends: rolls, a loaf of bread and maybe something sweet.

    | German | English |
    |---|---|
    | Ich hätte gern sechs Brötchen. | I'd like six rolls. |
    | Ein Vollkornbrot, bitte. | A wholemeal loaf, please. |
    | Was ist das? | What is that? |
    | Was kostet eine Brezel? | How much is a pretzel? |
    | Sonst noch etwas? — Nein, danke, das ist alles. | Anything else? — No, thanks, that's all. |
    | Kann ich mit Karte zahlen? | Can I pay by card? |
    | Schönes Wochenende! | Have a nice weekend! |

    The assistant starts: *Guten Morgen! Was bekommen Sie?*
"""),
conversation("asking-the-way", "Asking the way", "A1",
    "A street in the centre of Munich. The learner needs to find the main station (Hauptbahnhof) and asks a passer-by.",
    "a helpful passer-by who uses Sie and gives directions with links, rechts, geradeaus and landmarks",
    ["politely start a conversation with 'Entschuldigung'", "ask the way to the station",
     "understand and repeat the directions", "ask how far it is or how long it takes, and say thank you"], """
    # Asking the way

    You are in Munich and want to go to the main station. Ask someone.

    | German | English |
    |---|---|
    | Entschuldigung, wie komme ich zum Hauptbahnhof? | Excuse me, how do I get to the main station? |
    | Ist das weit? / Wie weit ist das? | Is it far? / How far is it? |
    | Gehen Sie geradeaus / links / rechts. | Go straight on / left / right. |
    | an der Ampel / an der Kreuzung | at the traffic lights / at the crossroads |
    | die zweite Straße links | the second street on the left |
    | Können Sie das bitte wiederholen? | Could you repeat that, please? |
    | Vielen Dank! — Gern geschehen. | Thank you very much! — You're welcome. |

    You start: *Entschuldigung, …*
"""),
]

A2 = [
conversation("doctors-appointment", "Phoning the doctor's surgery", "A2",
    "The learner has had a sore throat and a temperature for two days and phones their GP's surgery to get an appointment.",
    "the receptionist at the surgery (medizinische Fachangestellte), friendly but busy, who asks for the name, insurance and symptoms",
    ["say who you are and why you are calling", "describe your symptoms and since when you have had them",
     "agree on a day and time for the appointment", "spell your name and confirm the appointment"], """
    # Phoning the doctor

    You feel ill and phone the surgery (*die Praxis*) to get an appointment.

    | German | English |
    |---|---|
    | Guten Tag, hier spricht … | Hello, this is … speaking. |
    | Ich hätte gern einen Termin. | I'd like an appointment. |
    | Ich habe seit zwei Tagen Halsschmerzen und Fieber. | I've had a sore throat and a temperature for two days. |
    | Geht es heute noch? / Haben Sie morgen früh etwas frei? | Is today still possible? / Do you have anything tomorrow morning? |
    | Das passt mir gut. / Das passt mir leider nicht. | That suits me. / Unfortunately that doesn't suit me. |
    | Wie schreibt man das? — M-I-L-L-E-R. | How do you spell that? |
    | Bringen Sie bitte Ihre Versichertenkarte mit. | Please bring your health insurance card. |

    The receptionist answers: *Praxis Dr. Wagner, Sie sprechen mit Frau Kaya. Was kann ich für Sie tun?*
"""),
conversation("hotel-check-in", "Checking in at a hotel", "A2",
    "The learner arrives at a small hotel in Dresden in the evening, checks in, asks about breakfast and Wi-Fi, and later reports a problem with the room.",
    "the hotel receptionist, polite and formal (Sie), who offers help and solutions",
    ["check in with the name of your booking", "ask about breakfast times and the Wi-Fi password",
     "report a problem in the room (the heating does not work, no towels …)", "ask for another room or a solution"], """
    # At the hotel

    You have booked a room for two nights. Check in, ask about breakfast and Wi-Fi — and then
    something in the room is not right.

    | German | English |
    |---|---|
    | Ich habe ein Zimmer auf den Namen … reserviert. | I have booked a room in the name of … |
    | Von wann bis wann gibt es Frühstück? | When is breakfast served? |
    | Wie ist das WLAN-Passwort? | What's the Wi-Fi password? |
    | Die Heizung funktioniert nicht. | The heating isn't working. |
    | Es gibt keine Handtücher im Bad. | There are no towels in the bathroom. |
    | Könnte ich ein anderes Zimmer bekommen? | Could I have a different room? |
    | Bis wann muss ich auschecken? | By when do I have to check out? |

    The receptionist starts: *Guten Abend und herzlich willkommen! Haben Sie reserviert?*
"""),
conversation("train-tickets", "Buying train tickets", "A2",
    "At the ticket office (Reisezentrum) of Frankfurt main station. The learner wants to travel to Cologne tomorrow and come back on Sunday.",
    "the ticket clerk of the railway, efficient and helpful, who asks about dates, times, class and seat reservation",
    ["ask for a return ticket for given days", "ask about departure times, changes and the platform",
     "decide on class and seat reservation", "ask the price and pay"], """
    # Buying train tickets

    You want to go from Frankfurt to Cologne tomorrow morning and come back on Sunday afternoon.

    | German | English |
    |---|---|
    | Eine Fahrkarte nach Köln, bitte. Hin und zurück. | A ticket to Cologne, please. Return. |
    | Einfach / hin und zurück | single / return |
    | Wann fährt der nächste Zug? | When does the next train leave? |
    | Muss ich umsteigen? | Do I have to change? |
    | Von welchem Gleis fährt der Zug ab? | Which platform does the train leave from? |
    | Ich möchte einen Platz reservieren. | I'd like to reserve a seat. |
    | erste / zweite Klasse | first / second class |

    The clerk starts: *Guten Tag, wohin möchten Sie fahren?*
"""),
conversation("weekend-smalltalk", "Monday morning: what did you do at the weekend?", "A2",
    "Monday morning in the office kitchen. A colleague asks the learner about the weekend; both tell each other what they did.",
    "a chatty colleague, Sandra, who uses du, tells about her own weekend in the Perfekt and asks follow-up questions",
    ["tell what you did at the weekend in the Perfekt (with haben and sein)", "say how it was (war toll, hat Spaß gemacht …)",
     "ask your colleague about her weekend", "react to what she tells you"], """
    # Small talk: the weekend

    It's Monday morning. Your colleague Sandra asks about your weekend. Tell her at least three
    things you did — and ask her back.

    | German | English |
    |---|---|
    | Wie war dein Wochenende? | How was your weekend? |
    | Am Samstag bin ich ins Kino gegangen. | On Saturday I went to the cinema. |
    | Ich habe Freunde besucht / lange geschlafen. | I visited friends / slept in. |
    | Es war toll / ganz okay / ziemlich langweilig. | It was great / OK / rather boring. |
    | Das hat Spaß gemacht. | That was fun. |
    | Und du? Was hast du gemacht? | And you? What did you do? |
    | Echt? Wie schön! / Oh, schade! | Really? How nice! / Oh, what a pity! |

    Sandra starts: *Morgen! Na, wie war dein Wochenende?*
"""),
]

B1 = [
conversation("flat-viewing", "Viewing a flat", "B1",
    "The learner is viewing a two-room flat in Leipzig that they found online and wants to find out the costs and conditions before deciding.",
    "the landlord (Vermieter), Herr Becker, businesslike, who answers questions and asks about the learner's job and income",
    ["ask about the rent, utilities (Nebenkosten) and the deposit (Kaution)", "ask when you can move in and about the house rules (pets, washing machine …)",
     "answer questions about yourself and your job", "show your interest politely and ask what happens next"], """
    # Viewing a flat

    You are viewing a flat: 2 rooms, 55 m², 3rd floor, 620 euros rent. Find out everything you
    need before you decide.

    | German | English |
    |---|---|
    | Ist die Miete kalt oder warm? | Is the rent with or without heating and bills? |
    | Wie hoch sind die Nebenkosten? | How much are the utility costs? |
    | Muss man eine Kaution bezahlen? | Is there a deposit? |
    | Ab wann ist die Wohnung frei? | From when is the flat available? |
    | Sind Haustiere erlaubt? | Are pets allowed? |
    | Ich hätte großes Interesse an der Wohnung. | I'd be very interested in the flat. |
    | Welche Unterlagen brauchen Sie von mir? | Which documents do you need from me? |

    Herr Becker starts: *Guten Tag, kommen Sie herein. Das hier ist das Wohnzimmer – schön hell, oder?*
"""),
conversation("job-interview", "A job interview", "B1",
    "A job interview for a position in customer service at a medium-sized company in Stuttgart. The learner has applied and is invited to a first interview.",
    "the HR manager (Personalleiterin), Frau Dr. Hoffmann, formal and friendly, who asks about experience, strengths and motivation",
    ["introduce yourself and your professional experience", "explain why you want the job and what your strengths are",
     "ask about the team, working hours and training", "use polite forms (Konjunktiv II) and finish the interview well"], """
    # Job interview

    You are applying for a job in customer service. Present yourself and ask your own questions.

    | German | English |
    |---|---|
    | Ich habe drei Jahre als … gearbeitet. | I worked as … for three years. |
    | Zu meinen Aufgaben gehörte … | My tasks included … |
    | Meine Stärken sind … | My strengths are … |
    | Mich interessiert diese Stelle, weil … | I'm interested in this position because … |
    | Ich würde gern mehr über das Team erfahren. | I'd like to know more about the team. |
    | Wie sehen die Arbeitszeiten aus? | What are the working hours like? |
    | Gibt es Möglichkeiten zur Weiterbildung? | Are there opportunities for further training? |
    | Wann könnte ich mit einer Antwort rechnen? | When could I expect an answer? |

    Frau Dr. Hoffmann starts: *Guten Tag, schön, dass Sie da sind. Erzählen Sie doch bitte zuerst etwas über sich.*
"""),
conversation("complaint-return", "Making a complaint: a faulty product", "B1",
    "The learner bought headphones in an electronics shop two weeks ago; one side has stopped working. They go back with the receipt.",
    "a customer service employee who is polite but first suggests a repair that takes four weeks",
    ["explain what you bought, when, and what is wrong", "ask for an exchange or your money back and give reasons",
     "react to the offer of a repair and negotiate", "stay polite but firm and agree on a solution"], """
    # Making a complaint

    Your new headphones are broken after two weeks. You want new ones or your money back — not a
    repair that takes a month.

    | German | English |
    |---|---|
    | Ich habe diese Kopfhörer vor zwei Wochen hier gekauft. | I bought these headphones here two weeks ago. |
    | Die linke Seite funktioniert nicht mehr. | The left side doesn't work any more. |
    | Hier ist der Kassenbon. | Here's the receipt. |
    | Ich möchte sie umtauschen. / Ich hätte gern mein Geld zurück. | I'd like to exchange them. / I'd like my money back. |
    | Vier Wochen sind mir zu lang, weil … | Four weeks is too long for me because … |
    | Das ist doch ein Garantiefall. | This is covered by the guarantee. |
    | Könnten Sie vielleicht eine Ausnahme machen? | Could you perhaps make an exception? |
    | Dann bin ich einverstanden. | Then I agree. |

    The employee starts: *Guten Tag, was kann ich für Sie tun?*
"""),
conversation("car-free-city", "Discussion: a car-free city centre?", "B1",
    "The town council plans to close the old town to cars. The learner discusses the idea with a neighbour at a residents' meeting.",
    "a neighbour, Herr Schulz, who owns a small shop in the old town and is against the plan; he argues fairly and listens",
    ["give your opinion and justify it (weil, deshalb, denn)", "agree and disagree politely",
     "react to counter-arguments with obwohl or trotzdem", "suggest a compromise using Konjunktiv II (Man könnte … / Es wäre besser, wenn …)"], """
    # Discussion: a car-free old town

    The town wants to ban cars from the old town. Your neighbour, a shop owner, is against it.
    What do you think? Discuss and try to find a compromise.

    | German | English |
    |---|---|
    | Meiner Meinung nach … / Ich finde, dass … | In my opinion … / I think that … |
    | Da haben Sie recht. / Da stimme ich Ihnen zu. | You're right there. / I agree with you. |
    | Das sehe ich anders. | I see it differently. |
    | Einerseits …, andererseits … | On the one hand …, on the other hand … |
    | Ich verstehe Ihr Argument, trotzdem … | I understand your argument, nevertheless … |
    | Man könnte zum Beispiel … | One could, for example, … |
    | Es wäre besser, wenn … | It would be better if … |

    Herr Schulz starts: *Haben Sie schon von dem Plan gehört? Keine Autos mehr in der Altstadt – das ist doch das Ende für meinen Laden!*
"""),
]
